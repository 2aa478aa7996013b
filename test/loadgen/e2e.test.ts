import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBodyWithin } from '../../sim/http-body.js';
import type { BenchReport } from '../../src/loadgen/bench-report.js';
import { createBenchCommand, type BenchCommandIo } from '../../src/loadgen/command.js';
import { BenchUnreachableError, runBench } from '../../src/loadgen/run-bench.js';

type Answer = (inputs: unknown[], request: number) => { status: number; body: unknown; headers?: Record<string, string> };

interface TestServer {
  url: string;
  requests: number;
  inputs: number;
  server: Server;
}

/** A tiny stand-in for TEI's /embed that answers with `answer`. */
async function startServer(answer: Answer): Promise<TestServer> {
  const state: TestServer = { url: '', requests: 0, inputs: 0, server: undefined as unknown as Server };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBodyWithin(req, 2_000_000).then((received) => {
      const { inputs } = JSON.parse(String(received)) as { inputs: unknown };
      const list = Array.isArray(inputs) ? inputs : [inputs];
      state.requests += 1;
      state.inputs += list.length;
      const { status, body, headers } = req.url === '/embed' ? answer(list, state.requests) : { status: 404, body: 'not found' };
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.server = server;
  return state;
}

async function stopServer(server: TestServer | undefined): Promise<void> {
  if (server === undefined) return;
  server.server.closeAllConnections();
  await new Promise<void>((resolve) => server.server.close(() => resolve()));
}

const vectors = (count: number, width = 8): number[][] =>
  Array.from({ length: count }, (_, i) => Array.from({ length: width }, (_, j) => (i + j) / width));

let proxyLike: TestServer;
let upstreamLike: TestServer;
let wrongCount: TestServer;
let sometimesOverloaded: TestServer;
let closedPortUrl: string;
let workDir: string;

beforeAll(async () => {
  // Answers like TEI, plus the header an autobatch proxy adds.
  proxyLike = await startServer((inputs) => ({ status: 200, body: vectors(inputs.length), headers: { 'x-autobatch-batch-size': '3' } }));
  upstreamLike = await startServer((inputs) => ({ status: 200, body: vectors(inputs.length) }));
  // Answers one vector short: fast, and wrong.
  wrongCount = await startServer((inputs) => ({ status: 200, body: vectors(inputs.length - 1) }));
  sometimesOverloaded = await startServer((inputs, request) =>
    request % 2 === 0
      ? { status: 429, body: { error: 'Model is overloaded', error_type: 'Overloaded' } }
      : { status: 200, body: vectors(inputs.length) },
  );
  const closed = await startServer(() => ({ status: 200, body: [] }));
  closedPortUrl = closed.url;
  await stopServer(closed);
  workDir = mkdtempSync(join(tmpdir(), 'autobatch-bench-test-'));
});

afterAll(async () => {
  await Promise.all([proxyLike, upstreamLike, wrongCount, sometimesOverloaded].map(stopServer));
  rmSync(workDir, { recursive: true, force: true });
});

describe('runBench end to end', () => {
  let report: BenchReport;

  beforeAll(async () => {
    report = await runBench({
      url: proxyLike.url,
      baseline: upstreamLike.url,
      concurrency: [1, 4],
      durationSeconds: 1,
      warmupSeconds: 0.25,
      inputsPerRequest: 2,
    });
  });

  it('measures both sides at every level, alternating which goes first', () => {
    expect(report.levels.map((level) => level.label)).toEqual(['c=1', 'c=4']);
    expect(report.levels.map((level) => level.order)).toEqual([
      ['target', 'baseline'],
      ['baseline', 'target'],
    ]);
    for (const level of report.levels) {
      for (const run of [level.target, level.baseline]) {
        expect(run).not.toBeNull();
        if (run === null) continue;
        expect(run.errorCount).toBe(0);
        expect(run.requestsOk).toBeGreaterThan(0);
        expect(run.inputsOk).toBe(run.requestsOk * 2);
        expect(run.requestsPerSecond).toBeCloseTo(run.requestsOk / run.measuredSeconds, 6);
        expect(run.latencyMs?.count).toBe(run.requestsOk);
        expect(run.latencyMs?.p50).toBeGreaterThan(0);
      }
      expect(level.target.url).toBe(proxyLike.url);
      expect(level.baseline?.url).toBe(upstreamLike.url);
      expect(level.ratios?.requestsPerSecond).toBeCloseTo(level.target.requestsPerSecond / (level.baseline?.requestsPerSecond ?? 1), 6);
    }
  });

  it('reads the upstream batch size header where the side sends it', () => {
    for (const level of report.levels) {
      expect(level.target.batchSize?.mean).toBe(3);
      expect(level.target.batchSize?.answers).toBe(level.target.requestsOk);
      expect(level.baseline?.batchSize).toBeNull();
    }
  });

  it('sent every request as a list of two texts and reports what it ran on', () => {
    expect(proxyLike.inputs).toBe(proxyLike.requests * 2);
    expect(upstreamLike.inputs).toBe(upstreamLike.requests * 2);
    expect(report.vectorWidth).toEqual({ target: 8, baseline: 8 });
    expect(report.options.inputsPerRequest).toBe(2);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    // The servers share this process, so the bench may well report itself busy; nothing else.
    expect(report.warnings.filter((warning) => !warning.includes('load generator'))).toEqual([]);
    for (const level of report.levels) expect(level.target.clientEventLoopUtilization).toBeGreaterThan(0);
  });
});

describe('runBench against bad answers', () => {
  it('counts answers with the wrong element count as errors, not as throughput', async () => {
    const report = await runBench({ url: wrongCount.url, concurrency: [2], durationSeconds: 1, warmupSeconds: 0 });
    const run = report.levels[0]?.target;
    expect(run?.requestsOk).toBe(0);
    expect(run?.latencyMs).toBeNull();
    expect(run?.errors['wrong answer']).toBeGreaterThan(0);
    expect(run?.errorCount).toBe(run?.errors['wrong answer']);
    expect(run?.errorSamples[0]).toMatch(/wrong answer: answer has 0 elements for 1 inputs/);
    expect(report.warnings[0]).toMatch(/first request to the target failed \(wrong answer/);
  });

  it('counts errors by HTTP status next to the correct answers', async () => {
    const report = await runBench({ url: sometimesOverloaded.url, concurrency: [1], durationSeconds: 0.5, warmupSeconds: 0 });
    const run = report.levels[0]?.target;
    expect(run?.requestsOk).toBeGreaterThan(0);
    expect(run?.errors['429']).toBeGreaterThan(0);
    expect(Math.abs((run?.errors['429'] ?? 0) - (run?.requestsOk ?? 0))).toBeLessThanOrEqual(2);
    expect(run?.errorSamples[0]).toContain('Model is overloaded');
  });

  it('refuses to start when the target is unreachable', async () => {
    await expect(runBench({ url: closedPortUrl, concurrency: [1], durationSeconds: 1 })).rejects.toBeInstanceOf(BenchUnreachableError);
    await expect(runBench({ url: upstreamLike.url, baseline: closedPortUrl, concurrency: [1], durationSeconds: 1 })).rejects.toThrow(
      /baseline .* is unreachable/,
    );
  });

  it('runs an open loop on its schedule', async () => {
    const report = await runBench({ url: upstreamLike.url, rates: [40], durationSeconds: 0.5, warmupSeconds: 0.25 });
    const run = report.levels[0]?.target;
    expect(report.options.mode).toBe('open');
    expect(run?.errorCount).toBe(0);
    expect(run?.requestsOk).toBeGreaterThan(0);
    // 40/s over 0.75 s of schedule: never more answers than requests due.
    expect(run?.requestsOk).toBeLessThanOrEqual(31);
  });
});

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function testIo() {
  const out: string[] = [];
  const err: string[] = [];
  const state = { exitCode: undefined as number | undefined };
  const io: BenchCommandIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) > 0, isTTY: false },
    exit: (code: number): never => {
      throw new ExitCalled(code);
    },
    setExitCode: (code: number) => {
      state.exitCode = code;
    },
  };
  return { io, out, err, state };
}

async function runCli(args: string[]) {
  const { io, out, err, state } = testIo();
  let exitCode: number | undefined;
  try {
    await createBenchCommand(io).parseAsync(args, { from: 'user' });
    exitCode = state.exitCode;
  } catch (error) {
    if (!(error instanceof ExitCalled)) throw error;
    exitCode = error.code;
  }
  return { exitCode, stdout: out.join(''), stderr: err.join('') };
}

describe('autobatch bench (command line)', () => {
  it.each([
    [[], /--url/],
    [['--url', 'not a url'], /--url/],
    [['--url', 'http://127.0.0.1:9', '--concurrency', '0'], /--concurrency/],
    [['--url', 'http://127.0.0.1:9', '--concurrency', '1,x'], /--concurrency/],
    [['--url', 'http://127.0.0.1:9', '--rate', '10', '--concurrency', '4'], /--rate/],
    [['--url', 'http://127.0.0.1:9', '--duration', '0'], /--duration/],
    [['--url', 'http://127.0.0.1:9', '--duration', '0s'], /--duration/],
    [['--url', 'http://127.0.0.1:9', '--duration', '10x'], /--duration/],
    [['--url', 'http://127.0.0.1:9', '--duration', '-5s'], /--duration/],
    [['--url', 'http://127.0.0.1:9', '--warmup', '2 minutes'], /--warmup/],
    [['--url', 'http://127.0.0.1:9', '--texts', '/nonexistent/texts.txt'], /--texts/],
    [['--url', 'http://127.0.0.1:9', '--json', '/nonexistent/dir/report.json'], /--json/],
    [['--url', 'http://127.0.0.1:9', '--extra-body', '[1]'], /--extra-body/],
    [['--url', 'http://127.0.0.1:9', '--no-such-option'], /no-such-option/],
  ])('exits 2 for bad options %j, naming the option', async (args, named) => {
    const result = await runCli(args as string[]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(named as RegExp);
    expect(result.stdout).toBe('');
  });

  it('shows every default in --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.exitCode).toBe(0);
    const help = result.stdout.replace(/\s+/g, ' ');
    for (const text of [
      'default: "/embed"',
      'default: 1,8,32,128',
      'default: 10s',
      'default: 2s',
      '30s, 500ms, 2m, 1m30s',
      'default: 30000',
      'default: 1024',
    ]) {
      expect(help).toContain(text);
    }
  });

  it('exits 1 when the target is unreachable at start', async () => {
    const result = await runCli(['--url', closedPortUrl, '--concurrency', '1', '--duration', '1']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/unreachable/);
    expect(result.stdout).toBe('');
  });

  it('prints the Markdown table, writes the JSON and SVG reports, and exits 0', async () => {
    const json = join(workDir, 'report.json');
    const svg = join(workDir, 'report.svg');
    const texts = join(workDir, 'texts.txt');
    writeFileSync(texts, 'first text\n\nsecond text\r\nthird text\n');
    const result = await runCli([
      '--texts',
      texts,
      '--header',
      'Authorization: Bearer secret',
      '--url',
      proxyLike.url,
      '--baseline',
      upstreamLike.url,
      '--concurrency',
      '2',
      '--duration',
      '300ms',
      '--warmup',
      '0s',
      '--json',
      json,
      '--svg',
      svg,
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^\| c=2 \| target \|/m);
    expect(result.stdout).toMatch(/^\| c=2 \| baseline \|/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.options.url).toBe(proxyLike.url);
    expect(report.options.durationSeconds).toBe(0.3);
    expect(report.options.warmupSeconds).toBe(0);
    expect(report.levels).toHaveLength(1);
    expect(report.options.textCount).toBe(3);
    expect(report.options.textsSource).toBe(texts);
    expect(report.options.headers).toEqual({ authorization: '(redacted)' });
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*side: baseline[\s\S]*<\/svg>$/);
    // Not a terminal: no progress bar, only the files written.
    expect(result.stderr).not.toContain('\r');
  });
});
