/**
 * `npm run demo` end to end, in its quick mode: the real model upstream and the proxy start as
 * processes, the table comes out, the exit code is 0, and no server is left running, also when
 * the demo is interrupted with SIGINT halfway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Loading the model and two short levels per side; a busy CI machine needs room.
const DEMO_TIMEOUT_MS = 180_000;

interface DemoRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the demo, directly or (`underShell`) as the child of a shell that does not exec it, as `npm run` does. */
function startDemo(args: string[], { underShell = false }: { underShell?: boolean } = {}): DemoRun {
  // --no-build: `npm test` builds first, and rebuilding dist/ here could disturb tests running alongside.
  const command = [process.execPath, '--import', 'tsx', 'bench/demo.ts', '--no-build', ...args];
  const child = underShell
    ? spawn('/bin/sh', ['-c', `${command.map((word) => `'${word}'`).join(' ')}; exit $?`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command[0] as string, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), DEMO_TIMEOUT_MS - 10_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The pids the demo announced for its upstream and proxy. */
function announcedPids(stderr: string): number[] {
  return [...stderr.matchAll(/\(pid (\d+)\)/g)].map((match) => Number(match[1]));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => {
      const met = condition();
      if (met || Date.now() > deadline) {
        clearInterval(poll);
        resolve(met);
      }
    }, 100);
  });
}

function waitForOutput(run: DemoRun, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (run.stderr().includes(text)) {
        clearInterval(poll);
        resolve();
      } else if (run.child.exitCode !== null) {
        clearInterval(poll);
        reject(new Error(`demo exited before printing "${text}":\n${run.stderr()}`));
      }
    };
    const poll = setInterval(check, 50);
  });
}

describe('npm run demo', () => {
  it(
    '--quick prints the comparison table, exits 0 and leaves no process behind',
    async () => {
      const run = startDemo(['--quick']);
      const { code } = await run.exited;
      const stdout = run.stdout();
      expect(code, run.stderr()).toBe(0);
      // One section per upstream: the real model and the GPU-like simulator.
      expect(stdout.match(/^### /gm)).toHaveLength(2);
      const tables = stdout
        .split(/^### /m)
        .slice(1)
        .map((section) => section.split('\n').filter((line) => line.startsWith('| ')));
      for (const rows of tables) {
        expect(rows[0]).toBe('| inputs in flight | 1 | 4 |');
        expect(rows).toContain('| clients × inputs, client batches | – | 1 × 4 |');
        for (const row of rows) expect(row.split('|').length).toBe(rows[0]?.split('|').length);
        // Both sides answered at every level, so every ratio was computed.
        expect(rows.find((row) => row.includes('autobatch ÷ direct, inputs/s'))).toMatch(/^\| [^|]+ \| \*\*\d+\.\d\d×\*\* \| \*\*\d+\.\d\d×\*\* \|$/);
        expect(rows.find((row) => row.startsWith('| errors'))).toBe('| errors, direct / autobatch / client batches | 0 / 0 / – | 0 / 0 / 0 |');
      }

      const pids = announcedPids(run.stderr());
      expect(pids).toHaveLength(4);
      for (const pid of pids) expect(isRunning(pid), `pid ${pid} still running`).toBe(false);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'stops the upstream and the proxy when interrupted with SIGINT',
    async () => {
      // Long levels; the interrupt lands while the warm-up load is running.
      const run = startDemo(['--upstreams', 'model-short', '--concurrency', '4', '--duration', '60', '--warmup', '0']);
      await waitForOutput(run, 'warming up');
      const pids = announcedPids(run.stderr());
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(isRunning(pid)).toBe(true);

      run.child.kill('SIGINT');
      const { code } = await run.exited;
      expect(code, run.stderr()).toBe(130);
      expect(run.stdout()).not.toContain('### ');
      for (const pid of pids) expect(isRunning(pid), `pid ${pid} still running`).toBe(false);
    },
    DEMO_TIMEOUT_MS,
  );

  it.skipIf(process.platform === 'win32')(
    'stops the upstream and the proxy when the shell that started it dies (npm run passes SIGTERM only to its shell)',
    async () => {
      const run = startDemo(['--upstreams', 'model-short', '--concurrency', '4', '--duration', '60', '--warmup', '0'], { underShell: true });
      await waitForOutput(run, 'warming up');
      const pids = announcedPids(run.stderr());
      expect(pids).toHaveLength(2);

      // SIGKILL: the shell cannot pass anything on; the demo only sees that its parent is gone.
      run.child.kill('SIGKILL');
      // The pipes stay open while the orphaned demo runs; it should stop its servers within seconds.
      const stopped = await waitFor(() => pids.every((pid) => !isRunning(pid)), 30_000);
      expect(stopped, `still running: ${pids.filter(isRunning).join(', ')}\n${run.stderr()}`).toBe(true);
      expect(run.stderr()).toContain('stopping the upstream and the proxy');
      // The demo itself ends too: the pipes it inherited close.
      await run.exited;
    },
    DEMO_TIMEOUT_MS,
  );
});
