/**
 * The standalone binary (scripts/build-binary.mjs): built from dist/ with the Node running the
 * tests, then used as a user would, with no node_modules beside it and from another folder.
 * AUTOBATCH_BINARY=<path> tests an existing binary instead (one built with another Node, say).
 */
import { copyFile, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { cleanUp, expectOneBatchOfFour, ONE_CALL_AT_A_TIME, run, startCli, startTinyTei, type RunningCli, type TinyTei } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
let work: string;
let binary: string;
let upstream: TinyTei;
const running: RunningCli[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'autobatch-binary-test-'));
  binary = join(work, 'autobatch');
  const given = process.env.AUTOBATCH_BINARY;
  if (given !== undefined && given !== '') {
    await copyFile(resolve(given), binary);
  } else {
    // Straight to the script: `npm test` has just built dist/, and rebuilding it here would race
    // the other tests that read it.
    const built = await run(process.execPath, [join(root, 'scripts', 'build-binary.mjs'), '--out', binary], { cwd: root });
    expect(built.code, built.output).toBe(0);
  }
  upstream = await startTinyTei(4);
}, 120_000);

afterAll(() => cleanUp(running, upstream, work));

describe('standalone binary', () => {
  it('is one executable file', async () => {
    const info = await stat(binary);
    expect(info.isFile()).toBe(true);
    expect(info.mode & 0o111).not.toBe(0);
  });

  it('prints its version and help without Node.js or node_modules around it', async () => {
    // An empty PATH: nothing can be borrowed from a node install.
    const env = { PATH: '', NODE_PATH: '', NODE_OPTIONS: '' };
    const version = await run(binary, ['--version'], { cwd: work, env });
    expect(version).toEqual({ code: 0, output: `${VERSION}\n` });
    const help = await run(binary, ['--help'], { cwd: work, env });
    expect(help.code).toBe(0);
    expect(help.output).toContain('--upstream <url>');
    expect(help.output).toContain('AUTOBATCH_UPSTREAM');
    // No experimental-feature notice or other warning on a user's terminal.
    expect(help.output).not.toMatch(/warning/i);
  });

  it('exits with status 2 when the upstream is missing', async () => {
    const result = await run(binary, ['--port', '0'], { cwd: work, env: { AUTOBATCH_UPSTREAM: '' } });
    expect(result.code).toBe(2);
    expect(result.output).toContain('--upstream');
  });

  it('batches concurrent requests, configured by flags, and serves its health and metrics endpoints', async () => {
    const cli = await startCli(
      binary,
      ['--upstream', upstream.url, '--host', '127.0.0.1', '--port', '0', '--log-format', 'json', ...ONE_CALL_AT_A_TIME],
      { cwd: work },
    );
    running.push(cli);
    await expectOneBatchOfFour(cli.url, upstream);

    const ready = await fetch(`${cli.url}/autobatch/ready`);
    expect(ready.status).toBe(200);
    const metrics = await fetch(`${cli.url}/autobatch/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    // prom-client works inside the bundle: its default process metrics and the proxy's own.
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toMatch(/^autobatch_\w+/m);

    // Anything else passes through to the upstream untouched.
    const info = await fetch(`${cli.url}/info`);
    expect(await info.json()).toMatchObject({ max_client_batch_size: 4 });

    expect(await cli.stop()).toBe(0);
    expect(cli.output()).toContain('"msg":"stopped"');
  });

  it('takes its settings from AUTOBATCH_* variables and logs through pino-pretty', async () => {
    const cli = await startCli(binary, ONE_CALL_AT_A_TIME, {
      cwd: work,
      env: { AUTOBATCH_UPSTREAM: upstream.url, AUTOBATCH_HOST: '127.0.0.1', AUTOBATCH_PORT: '0', AUTOBATCH_LOG_FORMAT: 'pretty' },
    });
    running.push(cli);
    await expectOneBatchOfFour(cli.url, upstream);
    expect(await cli.stop()).toBe(0);
    const output = cli.output();
    expect(output).toMatch(/INFO.*autobatch listening/);
    expect(output).not.toMatch(/^\{"level"/m);
  });

  it('sends OpenTelemetry traces when OTEL_* asks (the lazily loaded SDK is inside the bundle)', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const cli = await startCli(
        binary,
        ['--upstream', upstream.url, '--host', '127.0.0.1', '--port', '0', '--log-format', 'json', ...ONE_CALL_AT_A_TIME],
        {
          cwd: work,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'autobatch-binary' },
        },
      );
      running.push(cli);
      await expectOneBatchOfFour(cli.url, upstream);
      // Stopping flushes the spans still buffered.
      expect(await cli.stop(), cli.output()).toBe(0);
      expect(cli.output()).toContain('OpenTelemetry tracing on');
      expect(receiver.errors).toEqual([]);
      const merged = receiver.spans.find((span) => span.kind === 3 && span.links.length === 4);
      expect(merged?.serviceName).toBe('autobatch-binary');
      const requestSpans = receiver.spans.filter((span) => span.kind === 2).map((span) => span.spanId);
      for (const link of merged!.links) expect(requestSpans).toContain(link.spanId);
    } finally {
      await receiver.close();
    }
  });

  it('runs `autobatch bench`, chart included (vega bundled, no canvas)', async () => {
    const svg = join(work, 'bench.svg');
    const result = await run(
      binary,
      ['bench', '--url', upstream.url, '--route', '/embed', '--duration', '1', '--warmup', '0', '--concurrency', '2', '--no-progress', '--svg', svg],
      { cwd: work },
    );
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('| c=2 | target |');
    expect(await readFile(svg, 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*req[\s\S]*<\/svg>\s*$/);
  });
});
