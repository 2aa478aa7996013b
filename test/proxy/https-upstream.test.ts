/**
 * An https:// upstream (OpenAI's API is one) with a certificate made in the test: trusted
 * through `--upstream-ca`, batched calls and the pass-through both reach it; without the CA the
 * proxy refuses the certificate (502), and an unreadable CA file is a settings error at start.
 * The CLI, a real process, trusts it through NODE_EXTRA_CA_CERTS instead, and takes
 * AUTOBATCH_FORWARD_HEADER as a comma-separated list.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SettingsError } from '../../src/options.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { startOpenAiCompatibleSim, type OpenAiCompatibleSim } from '../../sim/openai-compatible.js';
import { post, send } from '../support/http.js';
import { makeLocalCertificate } from '../support/tls.js';

const logger = createLogger('silent', 'json');
let dir: string;
let direct: Agent;
let caFile: string;
let sim: OpenAiCompatibleSim;
let trusting: RunningProxy;
let untrusting: RunningProxy;

beforeAll(async () => {
  const certificate = await makeLocalCertificate();
  dir = mkdtempSync(join(tmpdir(), 'autobatch-tls-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, certificate.cert);
  direct = new Agent({ connect: { ca: certificate.cert } });
  sim = await startOpenAiCompatibleSim({ tls: certificate, apiKey: 'sk-tls', created: () => 1 });
  const options = { upstream: sim.url, host: '127.0.0.1', port: 0, logger, maxWaitMs: 50, maxBatchSize: 64 };
  trusting = await startProxy({ ...options, upstreamCa: caFile });
  untrusting = await startProxy(options);
}, 60_000);

afterAll(async () => {
  await Promise.all([trusting?.close(), untrusting?.close()]);
  await sim?.close();
  await direct?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('https upstream', () => {
  it('with --upstream-ca: batched calls reach it and answer as directly', async () => {
    const inputs = Array.from({ length: 16 }, (_, i) => `secure ${i}`);
    const before = sim.calls.length;
    const openai = new OpenAI({ apiKey: 'sk-tls', baseURL: `${trusting.url}/v1`, maxRetries: 0 });
    const answers = await Promise.all(
      inputs.map((input) => openai.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' })),
    );
    expect(sim.calls.length - before).toBeLessThan(inputs.length);
    for (const [i, answer] of answers.entries()) {
      // The same call made directly, trusting the same certificate.
      const alone = await request(`${sim.url}/v1/embeddings`, {
        method: 'POST',
        dispatcher: direct,
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tls' },
        body: JSON.stringify({ model: 'text-embedding-3-small', input: inputs[i], encoding_format: 'float' }),
      });
      const expected = (await alone.body.json()) as { data: unknown; model: string };
      expect({ data: answer.data, model: answer.model }).toEqual({ data: expected.data, model: expected.model });
    }
    // The same call alone, through the proxy and straight to the upstream (trusting the same CA).
    const alone = await post(trusting.url, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' }, { authorization: 'Bearer sk-tls' });
    expect(alone.status).toBe(200);
    expect((alone.json() as { id: string }).id).toMatch(/^embd-/);
  });

  it('with --upstream-ca: the pass-through reaches it too', async () => {
    const models = await send(trusting.url, '/v1/models');
    expect(models.status).toBe(200);
    expect(models.json()).toMatchObject({ object: 'list' });
  });

  it('without the CA the certificate is refused: 502, nothing reaches the upstream', async () => {
    const before = sim.calls.length;
    const batched = await post(untrusting.url, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' });
    expect(batched.status).toBe(502);
    expect((await send(untrusting.url, '/v1/models')).status).toBe(502);
    expect(sim.calls.length).toBe(before);
  });

  it('an unreadable CA file is a settings error', async () => {
    await expect(startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger, upstreamCa: join(dir, 'missing.pem') })).rejects.toBeInstanceOf(
      SettingsError,
    );
  });

  it('the CLI trusts it through NODE_EXTRA_CA_CERTS, and forwards AUTOBATCH_FORWARD_HEADER names', async () => {
    const bin = new URL('../../bin/autobatch.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, '--upstream', sim.url, '--port', '0', '--host', '127.0.0.1', '--log-format', 'json'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, AUTOBATCH_FORWARD_HEADER: 'x-tenant, X-Region' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const record = JSON.parse(line) as { msg?: string; url?: string };
          if (record.msg === 'autobatch listening') resolve(record.url!);
        });
        child.once('exit', (code) => reject(new Error(`autobatch exited with ${code} before listening`)));
        setTimeout(() => reject(new Error('autobatch did not start within 20 s')), 20_000).unref();
      });
      const before = sim.calls.length;
      const reply = await post(
        url,
        '/v1/embeddings',
        { model: 'text-embedding-3-small', input: 'via the cli' },
        {
          authorization: 'Bearer sk-tls',
          'x-tenant': 't9',
          'x-region': 'eu',
          'x-other': 'kept back',
        },
      );
      expect(reply.status).toBe(200);
      const call = sim.calls[before]!;
      expect([call.headers['x-tenant'], call.headers['x-region'], call.headers['x-other']]).toEqual(['t9', 'eu', undefined]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
