/**
 * What a client of the proxy should get, computed from the simulator answering alone, and the
 * shapes an error may take. Shared by the hostile-input and soak tests.
 */
import type { Reply } from '../support/http.js';
import { send } from '../support/http.js';

export const OPENAI_PATHS = new Set(['/v1/embeddings', '/embeddings']);

/** The field holding a route's list of inputs. */
export function listField(path: string): 'input' | 'ids' | 'inputs' {
  return OPENAI_PATHS.has(path) ? 'input' : path === '/decode' ? 'ids' : 'inputs';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `{error, error_type}`, or on the OpenAI routes `{message, code, type}` with code = status. */
export function isShapedError(path: string, status: number, text: string): boolean {
  const body = parse(text);
  if (!isObject(body)) return false;
  if (typeof body.error === 'string' && typeof body.error_type === 'string') return true;
  return OPENAI_PATHS.has(path) && typeof body.message === 'string' && body.code === status && typeof body.type === 'string';
}

/** The JSON extractor's plain-text rejections, as TEI (axum) and the simulator write them. */
export function isExtractorText(text: string): boolean {
  return /^(Failed to (deserialize|parse|buffer) the (JSON body|request body)|Expected request with `Content-Type: application\/json`)/.test(text);
}

/** TEI refusing a client batch above max_client_batch_size, which the proxy splits instead. */
export function isBatchSizeRefusal(reply: Reply): boolean {
  return reply.status === 422 && /batch size \d+ > maximum allowed batch size \d+/.test(reply.text);
}

/** A 200 answer with what differs legitimately between a merged and a lone answer removed. */
export function comparable(path: string, text: string): unknown {
  if (!OPENAI_PATHS.has(path)) return text;
  // Usage is shared out among merged clients by length (docs/design.md, "OpenAI usage").
  const { usage: _usage, ...rest } = parse(text) as Record<string, unknown>;
  return rest;
}

export interface Expected {
  status: number;
  /** The answer's text; for an OpenAI success, its parsed body without `usage` (see comparable). */
  body: unknown;
  /** The direct answer's text, for errors. */
  text: string;
}

/**
 * The simulator's answer to `body` sent alone; when it refuses the batch as too large, the
 * answer the proxy owes instead: the answers to chunks of `chunkSize` inputs, concatenated in
 * order, or the first chunk's error.
 */
export async function expectedAnswer(
  simUrl: string,
  path: string,
  raw: Buffer | string,
  headers: Record<string, string>,
  chunkSize: number,
): Promise<Expected> {
  const direct = await send(simUrl, path, { method: 'POST', raw, headers });
  if (!isBatchSizeRefusal(direct)) {
    return { status: direct.status, body: direct.status === 200 ? comparable(path, direct.text) : direct.text, text: direct.text };
  }
  const value = JSON.parse(raw.toString()) as Record<string, unknown>;
  const field = listField(path);
  const list = value[field] as unknown[];
  const pieces: Reply[] = [];
  for (let i = 0; i < list.length; i += chunkSize) {
    const chunk = JSON.stringify({ ...value, [field]: list.slice(i, i + chunkSize) });
    const reply = await send(simUrl, path, { method: 'POST', raw: chunk, headers });
    if (reply.status !== 200) return { status: reply.status, body: reply.text, text: reply.text };
    pieces.push(reply);
  }
  if (!OPENAI_PATHS.has(path)) {
    const body = `[${pieces.map((p) => p.text.slice(1, -1)).join(',')}]`;
    return { status: 200, body, text: body };
  }
  const answers = pieces.map((p) => JSON.parse(p.text) as { data: { index: number }[] } & Record<string, unknown>);
  const first = answers[0]!;
  const { usage: _usage, ...rest } = first;
  let offset = 0;
  const data = answers.flatMap((answer) => {
    const shifted = answer.data.map((d) => ({ ...d, index: d.index + offset }));
    offset += answer.data.length;
    return shifted;
  });
  return { status: 200, body: { ...rest, data }, text: '' };
}
