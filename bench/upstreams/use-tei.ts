/**
 * A TEI-compatible embedding server around a real model (Universal Sentence Encoder lite, 512
 * dimensions, TF.js on WebAssembly, fully offline), for benchmarks and demos of the proxy.
 *
 * Unlike TEI it does NOT batch across requests: each HTTP call is one model call, and calls run
 * one at a time in arrival order. That is the kind of upstream (a plain inference server) in
 * front of which an auto-batching proxy pays off most, and its timing is real model work.
 *
 * Wire shapes, status codes and error texts follow TEI 1.9 (router/src/http/server.rs):
 *   POST /embed, / and /invocations    -> [[f32,...],...]
 *   POST /v1/embeddings and /embeddings -> OpenAI list, float or base64 (f32 little-endian)
 *   GET /health, / and /ping -> 200; GET /info -> TEI's Info
 * Token-id inputs are taken as ids of the model's own 8,000-piece vocabulary.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJsonMediaType } from '../../src/json/media-type.js';
import { readBodyWithin } from '../../sim/http-body.js';
import { f32ArrayBase64, f32ArrayJson } from './f32-json.js';
import {
  BodyRejection,
  TeiError,
  parseEmbedRequest,
  teiErrorBody,
  parseOpenAIEmbedRequest,
  type TeiInputItem,
  type TruncationDirection,
} from './tei-request.js';
import { USE_DIMENSIONS, loadUseModel, type UseModel } from './use-model.js';

export interface UseTeiOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** TEI's --max-client-batch-size; default 32. */
  maxClientBatchSize?: number;
  /** TEI's --max-concurrent-requests, counted in items as TEI does; default 512. */
  maxConcurrentRequests?: number;
}

export interface UseTeiStats {
  /** Model calls made (one per successful inference request). */
  calls: number;
  /** Items embedded over all calls. */
  items: number;
}

export interface UseTeiServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  readonly stats: UseTeiStats;
}

/** TEI's default --payload-limit. */
const PAYLOAD_LIMIT = 2_000_000;
/** Longest input in tokens; longer ones are cut (auto_truncate) or refused, as in TEI. */
const MAX_INPUT_LENGTH = 512;
/** TEI refuses (or cuts) texts longer than this many characters before tokenizing. */
const MAX_INPUT_CHARS = MAX_INPUT_LENGTH * 250;
const AUTO_TRUNCATE = true;
const MODEL_ID = 'universal-sentence-encoder-lite';
/** The TEI release whose behaviour this server follows. */
const TEI_VERSION = '1.9.3';

interface PreparedItem {
  readonly ids: number[];
  readonly chars: number;
}

interface EmbedWork {
  readonly items: TeiInputItem[];
  readonly single: boolean;
  readonly truncate: boolean;
  readonly truncationDirection: TruncationDirection;
  readonly promptName: string | null;
  readonly normalize: boolean;
  readonly dimensions: number | null;
}

interface EmbedOutcome {
  readonly vectors: Float32Array[];
  readonly tokens: number;
  readonly headers: Record<string, string>;
}

export async function startUseTei(opts: UseTeiOptions = {}): Promise<UseTeiServer> {
  const host = opts.host ?? '127.0.0.1';
  const maxClientBatchSize = opts.maxClientBatchSize ?? 32;
  const maxConcurrentRequests = opts.maxConcurrentRequests ?? 512;
  const model = await loadUseModel();
  const stats: UseTeiStats = { calls: 0, items: 0 };
  const info = JSON.stringify({
    model_id: MODEL_ID,
    model_sha: null,
    model_dtype: 'float32',
    served_model_name: MODEL_ID,
    model_type: { embedding: { pooling: 'mean' } },
    max_concurrent_requests: maxConcurrentRequests,
    max_input_length: MAX_INPUT_LENGTH,
    max_batch_tokens: 16384,
    max_batch_requests: null,
    max_client_batch_size: maxClientBatchSize,
    auto_truncate: AUTO_TRUNCATE,
    tokenization_workers: 1,
    version: TEI_VERSION,
    sha: null,
    docker_label: null,
  });
  /** Items admitted and not yet answered: TEI's permits. */
  let itemsInFlight = 0;

  async function embed(work: EmbedWork, signal: AbortSignal): Promise<EmbedOutcome> {
    const startedAt = performance.now();
    if (!work.single) {
      if (work.items.length === 0) throw new TeiError('Empty', '`inputs` cannot be empty');
      if (work.items.length > maxClientBatchSize) {
        throw new TeiError('Validation', `batch size ${work.items.length} > maximum allowed batch size ${maxClientBatchSize}`);
      }
    }
    if (itemsInFlight + work.items.length > maxConcurrentRequests) {
      throw new TeiError('Overloaded', 'Model is overloaded');
    }
    itemsInFlight += work.items.length;
    try {
      // TEI runs every item and then returns the first failure in input order; nothing here
      // depends on the model, so the first failure can stop the request before the model call.
      const prepared = work.items.map((item) => prepareItem(model, item, work));
      const tokenizedAt = performance.now();
      const call = await model.embed(
        prepared.map((p) => p.ids),
        signal,
      );
      stats.calls++;
      stats.items += prepared.length;
      const vectors = call.rows.map((row) => finishVector(row, work));
      let tokens = 0;
      let chars = 0;
      for (const p of prepared) {
        tokens += p.ids.length;
        chars += p.chars;
      }
      const ms = (value: number): string => String(Math.floor(value));
      const totalMs = ms(performance.now() - startedAt);
      return {
        vectors,
        tokens,
        headers: {
          'x-compute-type': 'cpu',
          'x-compute-time': totalMs,
          'x-compute-characters': String(chars),
          'x-compute-tokens': String(tokens),
          'x-total-time': totalMs,
          // TEI reports these three as averages over the request's items.
          'x-tokenization-time': ms((tokenizedAt - startedAt) / prepared.length),
          'x-queue-time': ms(call.queuedMs),
          'x-inference-time': ms(call.inferenceMs),
        },
      };
    } finally {
      itemsInFlight -= work.items.length;
    }
  }

  async function handleEmbed(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    let outcome: EmbedOutcome;
    try {
      const request = parseEmbedRequest(await readJsonBody(req));
      outcome = await embed({ ...request, truncate: request.truncate ?? AUTO_TRUNCATE }, signal);
    } catch (error) {
      sendError(res, error, 'tei');
      return;
    }
    let body = '[';
    outcome.vectors.forEach((vector, i) => {
      if (i > 0) body += ',';
      body += f32ArrayJson(vector);
    });
    send(res, 200, body + ']', 'application/json', outcome.headers);
  }

  async function handleOpenAI(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    let outcome: EmbedOutcome;
    let base64: boolean;
    try {
      const request = parseOpenAIEmbedRequest(await readJsonBody(req));
      base64 = request.encodingFormat === 'base64';
      // TEI's OpenAI route always normalizes and truncates per auto_truncate, from the right.
      outcome = await embed(
        {
          items: request.items,
          single: request.single,
          truncate: AUTO_TRUNCATE,
          truncationDirection: 'right',
          promptName: null,
          normalize: true,
          dimensions: request.dimensions,
        },
        signal,
      );
    } catch (error) {
      sendError(res, error, 'openai');
      return;
    }
    let body = '{"object":"list","data":[';
    outcome.vectors.forEach((vector, index) => {
      if (index > 0) body += ',';
      const embedding = base64 ? `"${f32ArrayBase64(vector)}"` : f32ArrayJson(vector);
      body += `{"object":"embedding","embedding":${embedding},"index":${index}}`;
    });
    body += `],"model":${JSON.stringify(MODEL_ID)},"usage":{"prompt_tokens":${outcome.tokens},"total_tokens":${outcome.tokens}}}`;
    send(res, 200, body, 'application/json', outcome.headers);
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const method = req.method ?? 'GET';
    // Skip queued work for clients that have gone, as TEI does.
    const abandoned = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abandoned.abort(new Error('client closed the connection'));
    });
    const route = ROUTES.get(path ?? '/');
    const action = route?.[method === 'HEAD' ? 'GET' : method];
    if (route === undefined) {
      send(res, 404, '', undefined);
    } else if (action === undefined) {
      send(res, 405, '', undefined, { allow: Object.keys(route).join(',') });
    } else if (action === 'health' || action === 'info') {
      req.resume();
      if (action === 'health') send(res, 200, '', undefined);
      else send(res, 200, info, 'application/json');
    } else {
      const handler = action === 'embed' ? handleEmbed : handleOpenAI;
      handler(req, res, abandoned.signal).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, String(error), 'text/plain; charset=utf-8');
        else res.destroy();
      });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

type Action = 'health' | 'info' | 'embed' | 'openai';

/** TEI's routes for an embedding model (`/` and `/invocations` route to /embed). */
const ROUTES = new Map<string, Record<string, Action>>([
  ['/health', { GET: 'health' }],
  ['/ping', { GET: 'health' }],
  ['/', { GET: 'health', POST: 'embed' }],
  ['/info', { GET: 'info' }],
  ['/embed', { POST: 'embed' }],
  ['/invocations', { POST: 'embed' }],
  ['/v1/embeddings', { POST: 'openai' }],
  ['/embeddings', { POST: 'openai' }],
]);

/** TEI's per-item checks, in TEI's order; per-item messages carry TEI's error-type prefix. */
function prepareItem(model: UseModel, item: TeiInputItem, work: EmbedWork): PreparedItem {
  const invalid = (message: string): TeiError => new TeiError('Validation', `Input validation error: ${message}`);
  if (work.dimensions === 0) throw invalid('`dimensions` should be positive');
  if (item.length === 0) throw new TeiError('Empty', 'Input validation error: `inputs` cannot be empty');
  if (work.promptName !== null) {
    throw invalid(`\`default-prompt-name\` is set to \`${work.promptName}\` but no prompts were found in the Sentence Transformers configuration`);
  }
  let ids: number[];
  let chars: number;
  if (typeof item === 'string') {
    let text = item;
    chars = countCodePoints(text);
    if (chars > MAX_INPUT_CHARS) {
      if (!work.truncate) {
        throw invalid(`\`inputs\` must have less than ${MAX_INPUT_CHARS} characters. Given: ${chars}`);
      }
      text = Array.from(text).slice(0, MAX_INPUT_CHARS).join('');
    }
    ids = model.tokenizer.encode(text);
  } else {
    chars = item.length;
    for (const id of item) {
      if (id >= model.tokenizer.vocabularySize) {
        throw invalid(`token id ${id} is outside the model's vocabulary of ${model.tokenizer.vocabularySize}`);
      }
    }
    ids = item;
  }
  if (ids.length > MAX_INPUT_LENGTH) {
    if (!work.truncate) {
      throw invalid(`\`inputs\` must have less than ${MAX_INPUT_LENGTH} tokens. Given: ${ids.length}`);
    }
    ids = work.truncationDirection === 'right' ? ids.slice(0, MAX_INPUT_LENGTH) : ids.slice(-MAX_INPUT_LENGTH);
  }
  if (work.dimensions !== null && work.dimensions > USE_DIMENSIONS) {
    throw invalid('`dimensions` should be smaller than the maximum embedding dimension.');
  }
  return { ids, chars };
}

/** Matryoshka cut, then TEI's normalization: scale = f32(1 / sqrt(sum of squares in f64)). */
function finishVector(row: Float32Array, work: Pick<EmbedWork, 'dimensions' | 'normalize'>): Float32Array {
  const cut = work.dimensions === null ? row : row.subarray(0, work.dimensions);
  if (!work.normalize) return cut;
  let sumOfSquares = 0;
  for (const v of cut) sumOfSquares += v * v;
  const scale = Math.fround(1 / Math.sqrt(sumOfSquares));
  const out = new Float32Array(cut.length);
  for (let i = 0; i < cut.length; i++) out[i] = cut[i]! * scale; // storing rounds to f32, as TEI's f32 multiply
  return out;
}

function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** axum's Json extractor: content type first, then the size limit, then JSON syntax. */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (!isJsonMediaType(req.headers['content-type'])) {
    req.resume();
    throw new BodyRejection(415, 'Expected request with `Content-Type: application/json`');
  }
  const body = await readBodyWithin(req, PAYLOAD_LIMIT);
  if (body === undefined) throw new BodyRejection(413, 'Failed to buffer the request body: length limit exceeded');
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BodyRejection(400, `Failed to parse the request body as JSON: ${(error as Error).message}`);
  }
}

function sendError(res: ServerResponse, error: unknown, flavour: 'tei' | 'openai'): void {
  if (error instanceof BodyRejection) {
    send(res, error.status, error.message, 'text/plain; charset=utf-8');
  } else if (error instanceof TeiError) {
    send(res, error.status, teiErrorBody(error.type, error.message, flavour === 'openai'), 'application/json');
  } else if (res.destroyed) {
    // The client left before its turn; nobody is there to answer.
  } else {
    const message = `Backend error: ${error instanceof Error ? error.message : String(error)}`;
    send(res, 424, teiErrorBody('Backend', message, flavour === 'openai'), 'application/json');
  }
}

function send(res: ServerResponse, status: number, body: string, contentType: string | undefined, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const head: Record<string, string | number> = { ...headers, 'content-length': Buffer.byteLength(body) };
  if (contentType !== undefined) head['content-type'] = contentType;
  res.writeHead(status, head);
  res.end(body);
}
