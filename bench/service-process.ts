/**
 * The servers a benchmark script runs against (a model upstream, the simulator, the proxy), each
 * as its own process on a free port, as they would run in production. A service is ready when
 * it prints its URL. Every way out of the script (normal end, an error, Ctrl-C, SIGTERM) stops
 * them all, so that no server outlives the script that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export interface ServiceSpec {
  /** For messages, e.g. "upstream". */
  name: string;
  /** Executable and arguments, e.g. process.execPath and ['bin/autobatch.js', ...]. */
  command: string;
  args: readonly string[];
  cwd: string;
  /** The service's URL if this line of its stdout announces it. */
  urlFromLine(line: string): string | undefined;
  /** How long to wait for the URL (a model may take seconds to load). */
  startTimeoutMs: number;
}

export interface RunningService {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  stop(): Promise<void>;
}

/** The service exited or stayed silent before announcing its URL. */
export class ServiceStartError extends Error {
  constructor(name: string, reason: string, output: readonly string[]) {
    const tail = output.length > 0 ? `\n--- last output of ${name} ---\n${output.join('\n')}` : '';
    super(`${name} did not start: ${reason}${tail}`);
    this.name = 'ServiceStartError';
  }
}

// Long enough for the proxy to send what it holds and the model server to finish its call.
const STOP_GRACE_MS = 5000;
// Lines kept to explain a failed start.
const OUTPUT_TAIL_LINES = 30;

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  // No pid: the process never started (e.g. the executable is missing).
  if (child.pid === undefined || hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  await waitForExit(child, STOP_GRACE_MS);
}

/** Exit codes of a process ended by a signal, as shells report them. */
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const PARENT_POLL_MS = 1000;

/**
 * The services of one script (create one per process). It stops every service and exits
 * (130, 143 or 129) on SIGINT, on SIGTERM, and when the script's parent goes away: `npm run`
 * passes SIGTERM to the shell it started, and the shell dies without passing it on, so the
 * script only learns of it by being orphaned. On any exit it SIGKILLs whatever is still running
 * (the last resort when the script crashes).
 */
export class ServiceGroup {
  readonly #children = new Set<ChildProcess>();
  #interrupted = false;

  constructor({ onInterrupt }: { onInterrupt?: (signal: NodeJS.Signals) => void } = {}) {
    const interrupt = (signal: NodeJS.Signals): void => {
      // A second Ctrl-C while stopping is ignored: the stop below already ends in SIGKILL.
      if (this.#interrupted) return;
      this.#interrupted = true;
      onInterrupt?.(signal);
      void this.stopAll().finally(() => process.exit(SIGNAL_EXIT_CODES[signal] ?? 1));
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    process.on('SIGHUP', interrupt);
    const parent = process.ppid;
    const parentWatch = setInterval(() => {
      if (process.ppid !== parent) interrupt('SIGHUP');
    }, PARENT_POLL_MS);
    parentWatch.unref();
    process.on('exit', () => {
      for (const child of this.#children) if (!hasExited(child)) child.kill('SIGKILL');
    });
  }

  /** Pids of the services started and not yet known to have exited. */
  get pids(): number[] {
    return [...this.#children].filter((child) => !hasExited(child)).map((child) => child.pid as number);
  }

  async start(spec: ServiceSpec): Promise<RunningService> {
    const child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    const output: string[] = [];
    // AUTOBATCH_BENCH_LOG_DIR: every line each service prints, kept in a file of its own there (a
    // proxy's policy decisions, to see why a cell measured what it did).
    const logDir = process.env.AUTOBATCH_BENCH_LOG_DIR;
    const logFile =
      logDir === undefined || logDir === ''
        ? undefined
        : createWriteStream(join(logDir, `${spec.name.replace(/[^\w.-]+/g, '_')}-${child.pid ?? 0}.log`));
    const keep = (line: string): void => {
      output.push(line);
      if (output.length > OUTPUT_TAIL_LINES) output.shift();
      logFile?.write(`${line}\n`);
    };
    child.once('exit', () => logFile?.end());
    // Both streams are read to the end, so a chatty service never blocks on a full pipe.
    createInterface({ input: child.stderr }).on('line', keep);
    const stdoutLines = createInterface({ input: child.stdout });

    const url = await new Promise<string>((resolve, reject) => {
      const fail = (reason: string): void => {
        cleanup();
        void stopChild(child).finally(() => reject(new ServiceStartError(spec.name, reason, output)));
      };
      const onLine = (line: string): void => {
        keep(line);
        const found = spec.urlFromLine(line);
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        fail(`exited (${signal ?? `code ${String(code)}`}) before announcing its URL`);
      const onError = (error: Error): void => fail(error.message);
      const timer = setTimeout(() => fail(`no URL within ${spec.startTimeoutMs} ms`), spec.startTimeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        stdoutLines.off('line', onLine);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      stdoutLines.on('line', onLine);
      child.once('exit', onExit);
      child.once('error', onError);
    });
    stdoutLines.on('line', keep);

    return {
      name: spec.name,
      pid: child.pid as number,
      url,
      stop: () => stopChild(child),
    };
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map((child) => stopChild(child)));
  }
}
