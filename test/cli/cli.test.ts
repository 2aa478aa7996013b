/** The CLI started as a real process: options, environment, exit codes, a real request, SIGTERM. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTeiSim } from '../../sim/index.js';
import { VERSION } from '../../src/version.js';
import { post, send } from '../support/http.js';
import { startTinyTei, vectorOf, type TinyTei } from '../support/tiny-tei.js';

const BIN = new URL('../../bin/autobatch.js', import.meta.url).pathname;

/** Runs the CLI to completion. Asynchronous, so upstreams served by this process keep answering. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The options in the README's table (rows starting with an option in backticks). */
function readmeOptions(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Options'), readme.indexOf('### Custom routes'));
  return [...section.matchAll(/^\| `(--[a-z-]+)/gm)].map((match) => match[1]!);
}

let upstream: TinyTei;
beforeAll(async () => {
  upstream = await startTinyTei(4);
});
afterAll(async () => {
  await upstream.close();
});

interface LogRecord {
  msg?: string;
  url?: string;
  [field: string]: unknown;
}

/**
 * Starts the CLI in front of the tiny upstream with JSON logs and waits for its "listening" line;
 * every log line before it is kept. `stop()` sends SIGTERM and resolves with the exit code.
 */
async function startCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ listening: LogRecord; before: LogRecord[]; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, '--upstream', upstream.url, '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  const before: LogRecord[] = [];
  const listening = await new Promise<LogRecord>((resolve, reject) => {
    lines.on('line', (line) => {
      const record = JSON.parse(line) as LogRecord;
      if (record.msg === 'autobatch listening') resolve(record);
      else before.push(record);
    });
    child.on('exit', () => reject(new Error('exited before listening')));
  });
  return {
    listening,
    before,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('autobatch CLI', () => {
  it('--help shows every option with its default and environment variable', async () => {
    const { code, stdout: text } = await run(['--help']);
    const stdout = text.replace(/\s+/g, ' ');
    expect(code).toBe(0);
    for (const option of readmeOptions()) {
      expect(stdout).toContain(option);
      const env = `AUTOBATCH_${option.slice(2).toUpperCase().replaceAll('-', '_')}`;
      expect(stdout).toContain(env);
    }
    expect(stdout).toContain('default: 3000');
    expect(stdout).toContain('serve');
  });

  it('--help and the options table of the README list the same options', async () => {
    const { stdout } = await run(['--help']);
    const inHelp = new Set([...stdout.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((match) => match[1]!));
    inHelp.delete('--help');
    inHelp.delete('--version');
    expect([...inHelp].sort()).toEqual([...readmeOptions()].sort());
  });

  it('--version matches package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect((await run(['--version'])).stdout.trim()).toBe(pkg.version);
  });

  it.each([
    [['--upstream', 'http://127.0.0.1:1', '--port', 'abc'], {}, '--port'],
    [['--upstream', 'http://127.0.0.1:1', '--max-wait-ms', '-1'], {}, '--max-wait-ms'],
    [['--upstream', 'http://127.0.0.1:1', '--bucket-by-length', '1'], {}, '--bucket-by-length'],
    [['--upstream', 'http://127.0.0.1:1'], { AUTOBATCH_MAX_INFLIGHT: '0' }, '--max-inflight'],
    [['--upstream', 'http://127.0.0.1:1', '--max-inflight', 'lots'], {}, '--max-inflight'],
    [['--upstream', 'http://127.0.0.1:1', '--bucket-by-length', 'sometimes'], {}, '--bucket-by-length'],
    [['--upstream', 'http://127.0.0.1:1', '--route', 'no-slash'], {}, '--route'],
    [['--upstream', 'not a url'], {}, '--upstream'],
    [[], {}, '--upstream'],
    [['--upstream', 'http://127.0.0.1:1', '--log-format', 'xml'], {}, '--log-format'],
    [['--upstream', 'http://127.0.0.1:1', '--bogus'], {}, '--bogus'],
    [['--upstream', 'http://127.0.0.1:1', '--timeout-ms', '0'], {}, '--timeout-ms'],
  ] as [string[], Record<string, string>, string][])('refuses %j with exit code 2 naming the option', async (args, env, option) => {
    const { code, stderr } = await run(args, env);
    expect(code).toBe(2);
    expect(stderr).toContain(option);
  });

  it.each([
    [['--timeout-ms', '1234'], {}, 1234],
    [[], { AUTOBATCH_TIMEOUT_MS: '1234' }, 1234],
    [['--timeout-ms', '1234', '--queue-timeout-ms', '999'], {}, 999],
  ] as [string[], Record<string, string>, number][])(
    'still takes the deprecated --timeout-ms (%j %j), with a warning',
    async (args, env, expected) => {
      const { listening, before, stop } = await startCli(args, env);
      expect(await stop()).toBe(0);
      expect(before.some((record) => record.msg?.includes('--timeout-ms (AUTOBATCH_TIMEOUT_MS) is deprecated'))).toBe(true);
      expect(listening.queueTimeoutMs).toBe(expected);
    },
  );

  it.each([
    [[], {}, 'adaptive', 'adaptive', 'default'],
    [['--max-inflight', '3', '--bucket-by-length', 'off'], {}, 3, 'off', 'pinned'],
    [[], { AUTOBATCH_MAX_INFLIGHT: '4', AUTOBATCH_BUCKET_BY_LENGTH: '2' }, 4, 2, 'pinned'],
    [['--max-inflight', 'adaptive', '--bucket-by-length', 'adaptive'], {}, 'adaptive', 'adaptive', 'default'],
  ] as [string[], Record<string, string>, unknown, unknown, string][])(
    'dispatch flags %j %j: adaptive unless given, a value given pins it',
    async (args, env, maxInflight, bucketByLength, inflightSource) => {
      const { listening, stop } = await startCli(args, env);
      const policy = (await send(listening.url!, '/autobatch/policy')).json() as { inflightLimit: { value: number; source: string } };
      expect(await stop()).toBe(0);
      expect(listening.maxInflight).toBe(maxInflight);
      expect(listening.bucketByLength).toBe(bucketByLength);
      expect(policy.inflightLimit.source).toBe(inflightSource);
      if (typeof maxInflight === 'number') expect(policy.inflightLimit.value).toBe(maxInflight);
    },
  );

  it('refuses a --max-batch-size above what the upstream accepts', async () => {
    const { code, stderr } = await run(['--upstream', upstream.url, '--port', '0', '--max-batch-size', '5']);
    expect(code).toBe(2);
    expect(stderr).toContain('--max-batch-size 5');
    expect(stderr).toContain('max_client_batch_size 4');
  });

  it.each([[[]], [['serve']]])('starts from the environment (%j), batches, and stops cleanly on SIGTERM', async (prefix) => {
    const child = spawn(process.execPath, [BIN, ...prefix], {
      env: {
        ...process.env,
        AUTOBATCH_UPSTREAM: upstream.url,
        AUTOBATCH_PORT: '0',
        AUTOBATCH_HOST: '127.0.0.1',
        AUTOBATCH_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout });
    const url = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        const record = JSON.parse(line) as { msg?: string; url?: string; maxBatchSize?: number };
        if (record.msg === 'autobatch listening') {
          expect(record.maxBatchSize).toBe(4);
          resolve(record.url!);
        }
      });
      child.on('exit', () => reject(new Error('exited before listening')));
    });
    const inputs = Array.from({ length: 6 }, (_, i) => 'x'.repeat(i + 1));
    const replies = await Promise.all(inputs.map((input) => post(url, '/embed', { inputs: [input] })));
    replies.forEach((reply, i) => expect(reply.json()).toEqual([vectorOf(inputs[i]!)]));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('on SIGTERM answers every accepted request before it exits 0', async () => {
    const sim = await startTeiSim({ dimensions: 4, cost: { perCallMs: 300, perItemMs: 0, slots: 1, merge: false } });
    const child = spawn(
      process.execPath,
      [BIN, '--upstream', sim.url, '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--max-batch-size', '2'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const record = JSON.parse(line) as { msg?: string; url?: string };
          if (record.msg === 'autobatch listening') resolve(record.url!);
        });
      });
      // Six requests: one call runs, one is staged, the rest are queued when the signal comes.
      const replies = Promise.all(Array.from({ length: 6 }, (_, i) => post(url, '/embed', { inputs: `q${i}` })));
      for (let waited = 0; waited < 10_000; waited += 20) {
        const metrics = (await send(url, '/autobatch/metrics')).text;
        if (/^autobatch_queue_depth 2$/m.test(metrics) && /^autobatch_inflight_calls 2$/m.test(metrics)) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGTERM');
      expect((await replies).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await sim.close();
    }
  });

  it('stops on SIGTERM even when whoever read its logs has gone away', async () => {
    const child = spawn(process.execPath, [BIN, '--upstream', upstream.url, '--port', '0', '--host', '127.0.0.1', '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (line.includes('autobatch listening')) resolve();
        });
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.stdout.destroy();
      child.stderr.destroy();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
