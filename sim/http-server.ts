/**
 * The HTTP face of the simulator: TEI's axum router (router/src/http/server.rs `run`) on
 * node:http. What a client sees beyond the handlers comes from axum and tower-http and is
 * reproduced here: 404 with an empty body for unknown paths, 405 with an `allow` header for a
 * wrong method, the API-key layer on the inference routes (401, empty body), the CORS layer
 * (every response carries `access-control-allow-origin: *` and `vary`, and any OPTIONS request
 * is answered as a preflight), and the `Json` extractor's plain-text rejections: 415 without a
 * JSON content type, 413 over the payload limit, then 400/422 for bodies that do not parse.
 */

import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { isJsonMediaType } from '../src/json/media-type.js';
import type { CallContext, RouteResponse, TeiEngine } from './engine.js';
import { type FaultInjector, faultErrorBody } from './faults.js';
import { readBodyWithin } from './http-body.js';
import { type RequestKind, type RequestTypes, parseRequest } from './request-types.js';
import { type SimConfig, TEI_VERSION, infoJson } from './sim-config.js';

export interface TeiSimStats {
  /** HTTP calls that reached an inference route (POST), whatever their outcome. */
  calls: number;
  /** Items in those calls (inputs, texts, sentences + 1, ...; 0 when the body did not parse). */
  items: number;
  callsByRoute: Record<string, number>;
  /** Items per call, in arrival order. */
  batchSizes: number[];
  /** Items per batch the cost model ran (merge mode: batches across calls). */
  backendBatchSizes: number[];
}

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  vary: 'origin, access-control-request-method, access-control-request-headers',
};

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

interface Route {
  readonly get?: Handler;
  readonly post?: Handler;
  /** Behind the API-key layer (TEI's `routes`, as opposed to its `public_routes`). */
  readonly protectedGet: boolean;
  readonly protectedPost: boolean;
  readonly allow: string;
}

function send(res: ServerResponse, status: number, body: string, contentType?: string, headers?: Readonly<Record<string, string>>): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  if (contentType !== undefined) res.setHeader('content-type', contentType);
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

function sendRoute(res: ServerResponse, response: RouteResponse): void {
  const body = response.body;
  if (typeof body === 'string') {
    send(res, response.status, body, JSON_TYPE, response.headers);
    return;
  }
  if (res.headersSent || res.destroyed) return;
  res.statusCode = response.status;
  res.setHeader('content-type', JSON_TYPE);
  if (response.headers !== undefined) for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
  let length = 0;
  for (const chunk of body) length += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  res.setHeader('content-length', length);
  // Corked writes leave as one writev: no copy of the pieces into one big buffer.
  res.cork();
  for (const chunk of body) res.write(chunk);
  res.end();
  res.uncork();
}

function itemCount(kind: RequestKind, value: RequestTypes[RequestKind]): number {
  switch (kind) {
    case 'rerank':
      return (value as RequestTypes['rerank']).texts.length;
    case 'similarity':
      return (value as RequestTypes['similarity']).inputs.sentences.length + 1;
    case 'openai':
      return (value as RequestTypes['openai']).input.items.length;
    case 'decode':
      return (value as RequestTypes['decode']).ids.items.length;
    case 'vertex':
      return (value as RequestTypes['vertex']).instances.length;
    default:
      return (value as RequestTypes['embed']).inputs.items.length;
  }
}

export function createTeiServer(config: SimConfig, engine: TeiEngine, stats: TeiSimStats, faults?: FaultInjector): Server {
  const authorization = config.apiKey === undefined ? undefined : `Bearer ${config.apiKey}`;

  const count = (path: string, items: number): void => {
    stats.calls += 1;
    stats.items += items;
    stats.callsByRoute[path] = (stats.callsByRoute[path] ?? 0) + 1;
    stats.batchSizes.push(items);
  };

  /** A POST route taking `Json<T>`: content type, size limit and parsing, then the handler. */
  const jsonRoute =
    <K extends RequestKind>(kind: K, run: (value: RequestTypes[K], ctx: CallContext) => RouteResponse | Promise<RouteResponse>): Handler =>
    (req, res, path) => {
      if (!isJsonMediaType(req.headers['content-type'])) {
        count(path, 0);
        req.resume();
        send(res, 415, 'Expected request with `Content-Type: application/json`', TEXT_TYPE);
        return;
      }
      let closed = false;
      res.on('close', () => {
        closed = true;
      });
      readBodyWithin(req, config.payloadLimit).then(
        (body) => {
          if (body === undefined) {
            count(path, 0);
            send(res, 413, 'Failed to buffer the request body: length limit exceeded', TEXT_TYPE);
            return;
          }
          const parsed = parseRequest(kind, body);
          if (!parsed.ok) {
            count(path, 0);
            send(res, parsed.rejection.status, parsed.rejection.body, TEXT_TYPE);
            return;
          }
          count(path, itemCount(kind, parsed.value));
          // An injected fault strikes a call whose body parsed: it reached TEI's handler.
          const fault = faults?.next();
          if (fault?.kind === 'error') {
            send(res, fault.status, faultErrorBody(fault.status, kind === 'openai'), JSON_TYPE);
            return;
          }
          if (fault?.kind === 'reset') {
            req.socket.destroy();
            return;
          }
          const delayMs = fault?.kind === 'slow' ? fault.delayMs : 0;
          const ctx: CallContext = { startNs: process.hrtime.bigint(), isCancelled: () => closed && !res.writableFinished };
          (delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)) : Promise.resolve())
            .then(() => run(parsed.value, ctx))
            .then(
              (response) => sendRoute(res, response),
              (error: unknown) => send(res, 500, String(error), TEXT_TYPE),
            );
        },
        () => res.destroy(),
      );
    };

  const embed = jsonRoute('embed', (v, c) => engine.embed(v, c));
  const embedSparse = jsonRoute('embedSparse', (v, c) => engine.embedSparse(v, c));
  const predict = jsonRoute('predict', (v, c) => engine.predict(v, c));
  const rerank = jsonRoute('rerank', (v, c) => engine.rerank(v, c));
  const openai = jsonRoute('openai', (v, c) => engine.openai(v, c));
  const similarity = jsonRoute('similarity', (v, c) => engine.similarity(v, c));
  // TEI serves POST / and /invocations with the route of its model type (server.rs `run`): a
  // classifier's /predict, a reranker's /rerank; for an embedding model /similarity under
  // TASK=sentence-similarity, else /embed_sparse with SPLADE pooling, else /embed.
  const byModel =
    config.kind === 'classifier'
      ? predict
      : config.kind === 'reranker'
        ? rerank
        : config.task === 'sentence-similarity'
          ? similarity
          : config.kind === 'splade'
            ? embedSparse
            : embed;

  const health: Handler = (_req, res) => send(res, 200, '');
  const info = infoJson(config);
  const openApi = JSON.stringify({
    openapi: '3.0.3',
    info: {
      title: 'Text Embeddings Inference',
      version: TEI_VERSION,
      license: { name: 'Apache 2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    paths: {},
  });

  const post = (handler: Handler): Route => ({ post: handler, protectedGet: true, protectedPost: true, allow: 'POST' });
  const publicGet = (handler: Handler): Route => ({ get: handler, protectedGet: false, protectedPost: false, allow: 'GET,HEAD' });

  const routes = new Map<string, Route>([
    ['/info', { get: (_req, res) => send(res, 200, info, JSON_TYPE), protectedGet: true, protectedPost: true, allow: 'GET,HEAD' }],
    ['/embed', post(embed)],
    ['/embed_all', post(jsonRoute('embedAll', (v, c) => engine.embedAll(v, c)))],
    ['/embed_sparse', post(embedSparse)],
    ['/predict', post(predict)],
    ['/rerank', post(rerank)],
    ['/similarity', post(similarity)],
    ['/tokenize', post(jsonRoute('tokenize', (v) => engine.tokenize(v)))],
    ['/decode', post(jsonRoute('decode', (v) => engine.decode(v)))],
    ['/embeddings', post(openai)],
    ['/v1/embeddings', post(openai)],
    ['/vertex', post(jsonRoute('vertex', (v, c) => engine.vertex(v, c)))],
    ['/invocations', post(byModel)],
    // `/` merges the protected POST with the public health GET.
    ['/', { get: health, post: byModel, protectedGet: false, protectedPost: true, allow: 'POST,GET,HEAD' }],
    ['/health', publicGet(health)],
    ['/ping', publicGet(health)],
    ['/metrics', publicGet((_req, res) => send(res, 200, engine.metrics.render(), TEXT_TYPE))],
    ['/api-doc/openapi.json', publicGet((_req, res) => send(res, 200, openApi, JSON_TYPE))],
    ['/docs', publicGet((_req, res) => send(res, 200, '<!doctype html><title>Text Embeddings Inference</title>', 'text/html; charset=utf-8'))],
  ]);

  const authorized = (req: IncomingMessage): boolean => authorization === undefined || req.headers.authorization === authorization;

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      // tower-http's CorsLayer answers every OPTIONS request as a preflight.
      req.resume();
      send(res, 200, '', undefined, { 'access-control-allow-methods': 'GET,POST', 'access-control-allow-headers': 'content-type' });
      return;
    }
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const route = routes.get(path);
    if (route === undefined) {
      req.resume();
      send(res, 404, '');
      return;
    }
    const isGet = method === 'GET' || method === 'HEAD';
    const handler = isGet ? route.get : method === 'POST' ? route.post : undefined;
    const guarded = handler === undefined ? route.protectedGet && route.protectedPost : isGet ? route.protectedGet : route.protectedPost;
    if (guarded && !authorized(req)) {
      req.resume();
      send(res, 401, '');
      return;
    }
    if (handler === undefined) {
      req.resume();
      send(res, 405, '', undefined, { allow: route.allow });
      return;
    }
    if (isGet) req.resume();
    handler(req, res, path);
  });
  // hyper keeps idle keep-alive connections open; Node's default 5 s would close them under
  // a pooling client and race its next request.
  server.keepAliveTimeout = 0;
  return server;
}
