/**
 * Big inputs, held as the clients' own bytes and sent upstream in pieces (src/http/read-inputs.ts,
 * src/upstream/call-body.ts), must reach the upstream as the very bytes a joined call body
 * would be, with a Content-Length that says so, and come back to each client as its own answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';

interface SeenCall {
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  body: Buffer;
}

describe('big inputs through the proxy', () => {
  const calls: SeenCall[] = [];
  let upstream: http.Server;
  let proxy: RunningProxy;

  beforeAll(async () => {
    // Answers each input with [its length, its last character's code], from the raw body it got.
    upstream = http.createServer((req, res) => {
      if (req.url === '/info') return void res.end('{"max_client_batch_size":32}');
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        calls.push({ contentLength: req.headers['content-length'], transferEncoding: req.headers['transfer-encoding'], body });
        const inputs = (JSON.parse(body.toString('utf8')) as { inputs: string[] }).inputs;
        res.setHeader('content-type', 'application/json');
        // A slow upstream, so that concurrent clients share calls.
        setTimeout(() => res.end(JSON.stringify(inputs.map((input) => [input.length, input.charCodeAt(input.length - 1)]))), 100);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proxy = await startProxy({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      host: '127.0.0.1',
      port: 0,
      logger: createLogger('silent', 'json'),
      maxInflight: 1,
    });
  });

  afterAll(async () => {
    await proxy.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('sends the joined call body, byte for byte, and answers each client its own', async () => {
    const plain = 'plain words, '.repeat(20_000);
    const escaped = 'a "quoted" line\n with a \\ backslash\t and a tab. '.repeat(5_000);
    const unicode = 'caf\u00e9 \ud83d\ude00 \u4e2d\u6587 \u2028 '.repeat(8_000);
    const bodies: { inputs: string | string[]; truncate?: boolean }[] = [
      { inputs: [plain, 'short'] },
      { inputs: escaped },
      { inputs: [unicode, plain], truncate: true },
      { inputs: [escaped], truncate: true },
    ];
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const response = await request(`${proxy.url}/embed`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: response.statusCode, text: await response.body.text() };
      }),
    );
    answers.forEach((answer, i) => {
      const inputs = bodies[i]!.inputs;
      const list = typeof inputs === 'string' ? [inputs] : inputs;
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(JSON.stringify(list.map((input) => [input.length, input.charCodeAt(input.length - 1)])));
    });
    // Each call carried what the proxy always wrote: the inputs' JSON texts joined, then the parameters.
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.length).toBeLessThan(4);
    for (const call of calls) {
      const parsed = JSON.parse(call.body.toString('utf8')) as { inputs: string[]; truncate?: boolean };
      const tail = parsed.truncate === undefined ? '}' : `,"truncate":${parsed.truncate}}`;
      expect(call.body.equals(Buffer.from(`{"inputs":[${parsed.inputs.map((input) => JSON.stringify(input)).join(',')}]${tail}`))).toBe(true);
      expect(call.contentLength).toBe(String(call.body.length));
      expect(call.transferEncoding).toBeUndefined();
    }
  });
});
