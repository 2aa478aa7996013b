/**
 * What the distribution tests share: the tiny TEI-shaped upstream (test/support/tiny-tei.ts) and
 * a way to start a shipped form of autobatch (installed npm package, standalone binary) as a
 * child process and talk to it the way a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { expect } from 'vitest';
import { vectorOf, type TinyTei } from '../support/tiny-tei.js';

export { startTinyTei, vectorOf, type TinyTei } from '../support/tiny-tei.js';

export interface RunningCli {
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * Starts `command args` (which should ask for port 0) and resolves once the process has logged
 * where it listens and /autobatch/health answers there.
 */
export async function startCli(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunningCli> {
  const child: ChildProcess = spawn(command, [...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };

  const url = await new Promise<string>((resolve, reject) => {
    const look = (): void => {
      // The start-up line carries the address: `"url":"http://…"` in JSON, `url: "http://…"` pretty.
      const match = /"?url"?:\s*"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1] !== undefined) {
        child.stdout?.off('data', look);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', look);
    void exited.then((code) => reject(new Error(`${command} exited with ${code} before listening:\n${output}`)));
  });
  const health = await fetch(`${url}/autobatch/health`);
  expect(health.status).toBe(200);
  return { url, output: () => output, stop };
}

/** Runs a command to its end; resolves with its exit code and everything it printed. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/**
 * Four single-input requests batched into one upstream call, deterministically whatever the
 * dispatch policy: with --max-inflight 1, a first request held by the upstream keeps the only
 * slot busy; the four queue (the proxy's own queue-depth gauge says when all are in) and go
 * together once it is released, four being the upstream's max_client_batch_size. Every client
 * must get exactly its own vector, and the x-autobatch-batch-size of its call.
 */
export async function expectOneBatchOfFour(proxyUrl: string, upstream: TinyTei): Promise<void> {
  const embed = async (input: string) => {
    const response = await fetch(`${proxyUrl}/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: input }),
    });
    return { status: response.status, batchSize: response.headers.get('x-autobatch-batch-size'), body: (await response.json()) as unknown };
  };
  const callsBefore = upstream.embedCalls.length;
  const hold = upstream.holdNextEmbed();
  const first = embed('first');
  await hold.arrived;

  const inputs = ['a', 'bb', 'ccc', 'dddd'];
  const replies = Promise.all(inputs.map(embed));
  await waitForQueueDepth(proxyUrl, inputs.length);
  hold.release();

  expect(await first).toEqual({ status: 200, batchSize: '1', body: [vectorOf('first')] });
  for (const [index, reply] of (await replies).entries()) {
    expect(reply).toEqual({ status: 200, batchSize: '4', body: [vectorOf(inputs[index]!)] });
  }
  expect(upstream.embedCalls.slice(callsBefore)).toEqual([1, 4]);
}

/** Polls /autobatch/metrics (every 20 ms, at most 10 s) until autobatch_queue_depth is `depth`. */
async function waitForQueueDepth(proxyUrl: string, depth: number): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 500; attempt++) {
    const text = await (await fetch(`${proxyUrl}/autobatch/metrics`)).text();
    last = /^autobatch_queue_depth (\S+)$/m.exec(text)?.[1] ?? 'absent';
    if (last === String(depth)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`autobatch_queue_depth stayed at ${last}, never ${depth}`);
}

/** The proxy flags expectOneBatchOfFour relies on: one upstream call at a time. */
export const ONE_CALL_AT_A_TIME = ['--max-inflight', '1'];

/**
 * Every distribution test's afterAll: stops the CLIs it started, closes its tiny TEI and removes
 * its scratch folder (each may be missing when beforeAll failed half-way).
 */
export async function cleanUp(running: readonly RunningCli[], upstream: TinyTei | undefined, work: string | undefined): Promise<void> {
  await Promise.all(running.map((cli) => cli.stop()));
  await upstream?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}
