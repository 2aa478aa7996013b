/**
 * A minimal TEI-like upstream for tests that need only /health, /info and /embed, with calls
 * counted and one call holdable, so a test can see batches form without timing luck.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBodyWithin } from '../../sim/http-body.js';
import { TEI_ERROR_STATUS, teiErrorBody, type ErrorType } from '../../sim/tei-error.js';

export interface TinyTei {
  url: string;
  /** How many inputs each POST /embed call carried, in arrival order. */
  embedCalls: number[];
  /** The inputs each POST /embed call carried, in arrival order. */
  embedCallInputs: string[][];
  /** Keeps the next POST /embed call unanswered until release() (arrived: it is being held). */
  holdNextEmbed(): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

/** TEI's own payload limit (--payload-limit). */
const PAYLOAD_LIMIT = 2_000_000;

async function readJson(request: IncomingMessage): Promise<unknown> {
  const body = await readBodyWithin(request, PAYLOAD_LIMIT);
  if (body === undefined) throw new Error('body over the payload limit');
  return JSON.parse(body.toString('utf8'));
}

/**
 * Answers GET /health, GET /info (with max_client_batch_size) and POST /embed with one vector
 * per input: [input length, first char code], so every answer says which input it belongs to.
 */
export async function startTinyTei(maxClientBatchSize: number): Promise<TinyTei> {
  const embedCalls: number[] = [];
  const embedCallInputs: string[][] = [];
  let hold: { arrived: () => void; released: Promise<void> } | undefined;
  const server: Server = createServer((request, response) => {
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const replyError = (type: ErrorType, message: string): void => {
      response.writeHead(TEI_ERROR_STATUS[type], { 'content-type': 'application/json' }).end(teiErrorBody(type, message));
    };
    if (request.method === 'GET' && request.url === '/health') return reply(200, {});
    if (request.method === 'GET' && request.url === '/info') {
      return reply(200, { model_id: 'tiny', max_client_batch_size: maxClientBatchSize, max_batch_tokens: 16384 });
    }
    if (request.method === 'POST' && request.url === '/embed') {
      readJson(request).then(
        (body) => {
          const inputs = (body as { inputs: string | string[] }).inputs;
          const list = typeof inputs === 'string' ? [inputs] : inputs;
          embedCalls.push(list.length);
          embedCallInputs.push(list);
          const held = hold;
          hold = undefined;
          held?.arrived();
          void (held?.released ?? Promise.resolve()).then(() => reply(200, list.map(vectorOf)));
        },
        () => replyError('Validation', 'bad json'),
      );
      return;
    }
    // TEI's router answers an unknown route with an empty 404.
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    embedCalls,
    embedCallInputs,
    holdNextEmbed() {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
      hold = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return { arrived: arrivedPromise, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function vectorOf(input: string): number[] {
  return [input.length, input.charCodeAt(0)];
}
