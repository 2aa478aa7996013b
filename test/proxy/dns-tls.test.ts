/**
 * DNS discovery over TLS, through the shipped CLI: a replica is reached at the address DNS gave,
 * while the TLS server name, the certificate check and the Host header stay the name's, on
 * batched calls, probes and pass-through alike. The upstream's certificate is for the name only,
 * so a connection that named the address instead would fail its check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from '../distribution/harness.js';
import { startDnsServer } from '../support/dns-server.js';
import { post, send } from '../support/http.js';

const BIN = new URL('../../bin/autobatch.js', import.meta.url).pathname;
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'autobatch-dns-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DNS discovery over TLS', () => {
  it.skipIf(!hasOpenssl)('names the host, not the address, in TLS and Host', { timeout: 60_000 }, async () => {
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=secure.test',
        '-addext',
        'subjectAltName=DNS:secure.test',
      ],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    const seen: string[] = [];
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (request, response) => {
      seen.push(`${request.method} ${request.url} sni=${(request.socket as TLSSocket).servername} host=${request.headers.host}`);
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(request.url === '/embed' ? '[[0.5]]' : request.url === '/info' ? '{"max_client_batch_size":4}' : '{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.6', resolve));
    const { port } = server.address() as AddressInfo;
    const dns = await startDnsServer({ 'secure.test': ['127.0.0.6'] });
    const cli = await startCli(
      process.execPath,
      [
        BIN,
        '--upstream',
        `https://secure.test:${port}`,
        '--dns-refresh-ms',
        '1000',
        '--dns-server',
        dns.server,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--log-format',
        'json',
      ],
      { env: { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') } },
    );
    try {
      expect((await post(cli.url, '/embed', { inputs: 'x' })).text).toBe('[[0.5]]');
      expect((await send(cli.url, '/some/path')).status).toBe(200);
      const ready = await send(cli.url, '/autobatch/ready');
      expect(ready.json()).toEqual({ status: 'ready', upstreams: [{ url: `https://secure.test:${port}/`, address: '127.0.0.6', healthy: true }] });
      const name = `sni=secure.test host=secure.test:${port}`;
      expect(seen).toEqual([`GET /info ${name}`, `POST /embed ${name}`, `GET /some/path ${name}`, `GET /health ${name}`]);
    } finally {
      await cli.stop();
      await dns.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
