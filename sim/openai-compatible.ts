/**
 * A multi-model OpenAI-compatible embeddings server for tests: the shape OpenAI, vLLM, Ollama's
 * /v1, infinity and LiteLLM share, with the details a proxy must not break (upstreams.md):
 *   - `model` is required (400 without it) and picks one of several models; an unknown one is a
 *     404 "The model `x` does not exist." (vLLM's words, OpenAI's error object);
 *   - the answer carries fields beyond data/model/usage, before `data` as vLLM writes them:
 *     `{"id":"embd-...","object":"list","created":...,"model":...,"data":[...],"usage":{...}}`;
 *   - `encoding_format: "base64"` answers each embedding as base64 of little-endian float32;
 *   - optional API key (`Authorization: Bearer`), optional TLS.
 * The id is a hash of what was asked (model, encoding, inputs) and `created` comes from an
 * injected clock, so a request sent alone gets the same bytes directly and through the proxy.
 * Every call is counted, with the headers it came with.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fakeEmbedding, fakeTokenCount, readWholeBody } from './fake-embedding.js';

export interface OpenAiCompatibleSimOptions {
  /** Served models and their embedding sizes (default one model, `text-embedding-3-small`, 8 dimensions). */
  models?: Readonly<Record<string, number>>;
  /** When set, every call needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Seconds since the epoch written as `created` (default: the wall clock). */
  created?: () => number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Most inputs in one request (OpenAI: 2048); beyond it a 400. */
  maxInputs?: number;
}

export interface OpenAiCompatibleCall {
  readonly model: string | undefined;
  readonly inputs: number;
  /** The texts it asked for (token-id inputs as their JSON). */
  readonly texts: readonly string[];
  /** The request headers as received (lower-case names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface OpenAiCompatibleSim {
  readonly url: string;
  /** Every POST to an embeddings route, answered or refused, in arrival order. */
  readonly calls: OpenAiCompatibleCall[];
  /** The `id` of every answer given. */
  readonly ids: Set<string>;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

function errorBody(message: string, code: string | null, param: string | null = null): string {
  return JSON.stringify({ error: { message, type: 'invalid_request_error', param, code } });
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function base64Of(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

/** The inputs OpenAI takes: a string, a list of strings, a list of token ids, or a list of such lists. */
function readInputs(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((x) => typeof x === 'number')) return [JSON.stringify(input)];
  if (input.every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => typeof y === 'number')))) {
    return input.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  }
  return undefined;
}

export async function startOpenAiCompatibleSim(options: OpenAiCompatibleSimOptions = {}): Promise<OpenAiCompatibleSim> {
  const models = options.models ?? { 'text-embedding-3-small': 8 };
  const created = options.created ?? (() => Math.floor(Date.now() / 1000));
  const maxInputs = options.maxInputs ?? 2048;
  const calls: OpenAiCompatibleCall[] = [];
  const ids = new Set<string>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && (path === '/v1/models' || path === '/models')) {
      send(
        response,
        200,
        JSON.stringify({ object: 'list', data: Object.keys(models).map((id) => ({ id, object: 'model', created: 0, owned_by: 'sim' })) }),
      );
      return;
    }
    if (request.method !== 'POST' || (path !== '/v1/embeddings' && path !== '/embeddings')) {
      request.resume();
      send(response, 404, errorBody(`Unknown request URL: ${request.method} ${path}`, 'unknown_url'));
      return;
    }
    const raw = await readWholeBody(request);
    let body: Json | undefined;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Json;
    } catch {
      body = undefined;
    }
    const model = typeof body?.model === 'string' ? body.model : undefined;
    const inputs = body === undefined ? undefined : readInputs(body.input);
    calls.push({ model, inputs: inputs?.length ?? 0, texts: inputs ?? [], headers: { ...request.headers } });

    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      return send(response, 401, errorBody('Incorrect API key provided.', 'invalid_api_key'));
    }
    if (body === undefined) return send(response, 400, errorBody('We could not parse the JSON body of your request.', null));
    if (model === undefined) return send(response, 400, errorBody('you must provide a model parameter', null, 'model'));
    const dimensions = models[model];
    if (dimensions === undefined) return send(response, 404, errorBody(`The model \`${model}\` does not exist.`, 'model_not_found', 'model'));
    if (inputs === undefined || inputs.some((text) => text === '')) {
      return send(
        response,
        400,
        errorBody("'input' must be a non-empty string or a non-empty list of non-empty strings or token lists", null, 'input'),
      );
    }
    if (inputs.length > maxInputs)
      return send(response, 400, errorBody(`'input' holds ${inputs.length} items, more than ${maxInputs}`, null, 'input'));
    const encoding = body.encoding_format ?? 'float';
    if (encoding !== 'float' && encoding !== 'base64') {
      return send(response, 400, errorBody("'encoding_format' must be 'float' or 'base64'", null, 'encoding_format'));
    }
    const wanted = body.dimensions;
    const size = typeof wanted === 'number' && Number.isInteger(wanted) && wanted > 0 && wanted < dimensions ? wanted : dimensions;

    const id = `embd-${createHash('sha256')
      .update(JSON.stringify([model, encoding, size, inputs]))
      .digest('hex')
      .slice(0, 24)}`;
    ids.add(id);
    let tokens = 0;
    const data = inputs.map((text, index) => {
      tokens += fakeTokenCount(text);
      const vector = fakeEmbedding(model, text, size);
      return { object: 'embedding', index, embedding: encoding === 'base64' ? base64Of(vector) : vector };
    });
    const answer = { id, object: 'list', created: created(), model, data, usage: { prompt_tokens: tokens, total_tokens: tokens } };
    send(response, 200, JSON.stringify(answer));
  }

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch(() => response.destroy());
  };
  const server =
    options.tls === undefined ? http.createServer(listener) : https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    calls,
    ids,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
