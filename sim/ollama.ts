/**
 * An Ollama server's native embeddings route for tests, POST /api/embed, as Ollama's
 * server/routes.go EmbedHandler answers it (never TEI's shape):
 *   {model, input: string | [string], truncate, dimensions, keep_alive, options}
 *   -> {"model":...,"embeddings":[[...]],"total_duration":...,"load_duration":...,"prompt_eval_count":...}
 * Errors are gin's `{"error":"..."}`: 400 for a body that does not bind or an input that is not
 * a string or a list of strings ("invalid input type"), 404 "model 'x' not found" for a model
 * not pulled (model names without a tag mean `:latest`), 400 "the input length exceeds the
 * context length" with `truncate: false`. An empty input ("" or []) loads the model and answers
 * `{"model":...,"embeddings":[]}`. Embeddings are unit length, cut to `dimensions` and
 * renormalised when asked. Durations are a deterministic function of the tokens (real ones are
 * wall-clock), so a request alone gets the same bytes directly and through the proxy.
 * GET /api/version and /api/tags answer as Ollama does; every /api/embed call is counted.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeEmbedding, fakeTokenCount, readWholeBody } from './fake-embedding.js';

export interface OllamaSimOptions {
  /** Pulled models and their embedding sizes (default `all-minilm:latest`, 8 dimensions). */
  models?: Readonly<Record<string, number>>;
  /** Context length in (fake) tokens (default 512). */
  contextLength?: number;
}

export interface OllamaCall {
  readonly model: string | undefined;
  readonly inputs: number;
  /** The texts it asked for (token-id inputs as their JSON). */
  readonly texts: readonly string[];
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface OllamaSim {
  readonly url: string;
  readonly calls: OllamaCall[];
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** `all-minilm` and `all-minilm:latest` are one model. */
function withTag(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

function normalize(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  return vector.map((v) => Math.fround(v / Math.max(norm, 1e-12)));
}

export async function startOllamaSim(options: OllamaSimOptions = {}): Promise<OllamaSim> {
  const models = new Map(Object.entries(options.models ?? { 'all-minilm:latest': 8 }).map(([name, size]) => [withTag(name), size]));
  const contextLength = options.contextLength ?? 512;
  const calls: OllamaCall[] = [];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/api/version') return send(response, 200, { version: '0.12.0' });
    if (request.method === 'GET' && path === '/api/tags') {
      return send(response, 200, { models: [...models.keys()].map((name) => ({ name, model: name, size: 0, digest: '' })) });
    }
    if (request.method !== 'POST' || path !== '/api/embed') {
      request.resume();
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('404 page not found');
      return;
    }
    const raw = await readWholeBody(request);
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('json: cannot unmarshal into Go value of type api.EmbedRequest');
      body = parsed as Record<string, unknown>;
    } catch (error) {
      calls.push({ model: undefined, inputs: 0, texts: [], headers: { ...request.headers } });
      return send(response, 400, { error: raw.length === 0 ? 'missing request body' : (error as Error).message });
    }
    const model = typeof body.model === 'string' ? body.model : '';
    const input = body.input;
    let texts: string[];
    if (typeof input === 'string') texts = input === '' ? [] : [input];
    else if (Array.isArray(input) && input.every((x) => typeof x === 'string')) texts = input as string[];
    else if (input === undefined || input === null) texts = [];
    else texts = ['\u0000invalid'];
    calls.push({ model, inputs: texts.length, texts, headers: { ...request.headers } });
    if (texts[0] === '\u0000invalid') return send(response, 400, { error: 'invalid input type' });
    const size = models.get(withTag(model));
    if (size === undefined) return send(response, 404, { error: `model '${model}' not found` });
    if (texts.length === 0) return send(response, 200, { model, embeddings: [] });

    const truncate = body.truncate !== false;
    let tokens = 0;
    const embeddings: number[][] = [];
    for (const text of texts) {
      const count = fakeTokenCount(text);
      if (count > contextLength && !truncate) return send(response, 400, { error: 'the input length exceeds the context length' });
      tokens += Math.min(count, contextLength);
      let vector = normalize(fakeEmbedding(withTag(model), text, size));
      const dimensions = body.dimensions;
      if (typeof dimensions === 'number' && dimensions > 0 && dimensions < vector.length) vector = normalize(vector.slice(0, dimensions));
      embeddings.push(vector);
    }
    send(response, 200, { model, embeddings, total_duration: 1_000_000 + 25_000 * tokens, load_duration: 1_000_000, prompt_eval_count: tokens });
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
