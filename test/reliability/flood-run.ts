/**
 * A flood of big bodies against the proxy running as its own process (so its RSS is its own):
 * many clients at once, each sending one large input to /embed, in front of a simulated upstream
 * that takes a fixed time per call. Reports what every client got, how long it took, the proxy's
 * peak RSS (the kernel's high-water mark) and whether a normal request right after the flood is
 * answered at once (the simulator runs as its own process too). Issue 12 found the proxy died of this; shared by
 * test/reliability/memory-flood.test.ts (scaled down) and bench/memory-flood.ts (the full flood).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';

const BIN = new URL('../../bin/autobatch.js', import.meta.url).pathname;
const SIM = new URL('../../dist-sim/sim/main.js', import.meta.url).pathname;

/** The simulator as its own process too: tokenizing big inputs would otherwise slow the clients. */
function startSimProcess(callMs: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SIM, '--dimensions', '8', '--per-call-ms', String(callMs), '--slots', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the simulator did not start within 20 s')), 20_000);
    child.once('exit', (code, signal) => reject(new Error(`the simulator exited at start (${code ?? signal})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, url: line.trim() });
    });
  });
}

export interface FloodOptions {
  clients: number;
  /** Bytes of the one input each client sends. */
  inputBytes: number;
  /** Time the upstream takes per call. */
  upstreamCallMs: number;
  /** The proxy process's V8 old-space limit (--max-old-space-size), in MB. */
  maxOldSpaceMb: number;
  /** Extra proxy flags, e.g. ['--max-memory-bytes', '50000000']. */
  proxyArgs: readonly string[];
  /** A request unanswered after this long counts as hung. */
  requestTimeoutMs: number;
}

export interface FloodReport {
  clients: number;
  bodyBytes: number;
  /** Answers by status; 'dropped' is a connection that failed without one, 'hung' no answer in time. */
  statuses: Record<string, number>;
  /** 429 answers without a Retry-After header (must be 0). */
  overloadedWithoutRetryAfter: number;
  /** 429 answers whose body is not TEI's Overloaded shape (must be 0). */
  overloadedUnshaped: number;
  /** From the first request sent to the last answer. */
  durationMs: number;
  /** The proxy's RSS before the flood and its high-water mark (VmHWM) after it. */
  rssBeforeMb: number;
  rssPeakMb: number;
  /** Bodies the proxy held at once at most, from its memory gauge (0 when it has none). */
  heldPeakMb: number;
  /** Peaks of the V8 heap's size and of memory outside it (Buffers), sampled every 100 ms. */
  heapTotalPeakMb: number;
  externalPeakMb: number;
  /** A small /embed sent after the flood: its status and time. */
  afterStatus: number | string;
  afterMs: number;
  /** The budget's count once everything was answered (must be 0: nothing leaked). */
  heldAfterBytes: number;
  /** The proxy process was still running at the end. */
  proxyAlive: boolean;
  /** How the proxy process ended, when it did. */
  proxyExit: string | undefined;
  /** Why connections failed without an answer, by error code, and one message each. */
  droppedBy: Record<string, { count: number; example: string }>;
  /** The proxy's warnings and errors (log lines at level >= 40), at most ten. */
  proxyWarnings: string[];
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function startProxyProcess(upstream: string, options: FloodOptions): Promise<{ child: ChildProcess; url: string; warnings: string[] }> {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${options.maxOldSpaceMb}`,
      BIN,
      '--upstream',
      upstream,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--log-format',
      'json',
      ...options.proxyArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const warnings: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the proxy did not start within 20 s')), 20_000);
    child.once('exit', (code, signal) => reject(new Error(`the proxy exited at start (${code ?? signal})`)));
    child.stderr!.on('data', (chunk: Buffer) => warnings.length < 10 && warnings.push(chunk.toString().slice(0, 300)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { level?: number; msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if ((entry.level ?? 0) >= 40 && warnings.length < 10) warnings.push(line.slice(0, 300));
      if (entry.msg === 'autobatch listening' && entry.url !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: entry.url, warnings });
      }
    });
  });
}

const GAUGES = {
  held: 'autobatch_memory_held_bytes',
  heap: 'autobatch_process_nodejs_heap_size_total_bytes',
  external: 'autobatch_process_nodejs_external_memory_bytes',
} as const;

/** The proxy's memory gauges (held: its budget's count, 0 when it has none). */
async function gauges(url: string, agent: Agent): Promise<Record<keyof typeof GAUGES, number>> {
  const values = { held: 0, heap: 0, external: 0 };
  try {
    const response = await request(`${url}/autobatch/metrics`, { dispatcher: agent });
    const text = await response.body.text();
    for (const [key, name] of Object.entries(GAUGES) as [keyof typeof GAUGES, string][]) {
      const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
      if (match) values[key] = Number(match[1]);
    }
  } catch {
    // Unanswered while flooded: this sample counts nothing.
  }
  return values;
}

export async function runFlood(options: FloodOptions): Promise<FloodReport> {
  const sim = await startSimProcess(options.upstreamCallMs);
  const { child, url, warnings } = await startProxyProcess(sim.url, options).catch((error: unknown) => {
    sim.child.kill('SIGKILL');
    throw error;
  });
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `${code ?? signal}`));
  // Clients wait for a connection as long as for an answer (as most HTTP clients do, up to the
  // kernel's SYN retries): 1,500 connecting at once overflow the listen backlog (511) and are
  // accepted on their SYN retries.
  const agent = new Agent({ connections: options.clients + 8, pipelining: 1, connectTimeout: options.requestTimeoutMs });
  // One body shared by every client: the driver's own memory stays small.
  const words = 'lorem ipsum dolor sit amet ';
  const prefix = '{"inputs":"';
  const text = words.repeat(Math.ceil(options.inputBytes / words.length)).slice(0, options.inputBytes);
  const body = Buffer.from(`${prefix}${text}"}`);
  const report: FloodReport = {
    clients: options.clients,
    bodyBytes: body.length,
    statuses: {},
    overloadedWithoutRetryAfter: 0,
    overloadedUnshaped: 0,
    durationMs: 0,
    rssBeforeMb: statusMb(child.pid!, 'VmRSS'),
    rssPeakMb: 0,
    heldPeakMb: 0,
    heapTotalPeakMb: 0,
    externalPeakMb: 0,
    afterStatus: 0,
    afterMs: 0,
    heldAfterBytes: 0,
    proxyAlive: false,
    proxyExit: undefined,
    proxyWarnings: warnings,
    droppedBy: {},
  };
  const count = (status: string): void => {
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
  };
  const peaks = { held: 0, heap: 0, external: 0 };
  let rssPeak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling && exit === undefined) {
      const now = await gauges(url, agent);
      for (const key of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[key] = Math.max(peaks[key], now[key]);
      // Read while the process lives: the kernel forgets its high-water mark when it dies.
      rssPeak = Math.max(rssPeak, statusMb(child.pid!, 'VmHWM') || 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        try {
          const response = await request(`${url}/embed`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            dispatcher: agent,
            signal: AbortSignal.timeout(options.requestTimeoutMs),
          });
          const answer = await response.body.text();
          count(String(response.statusCode));
          if (response.statusCode === 429) {
            if (response.headers['retry-after'] === undefined) report.overloadedWithoutRetryAfter++;
            if (!/^\{"error":"[^"]*","error_type":"Overloaded"\}$/.test(answer)) report.overloadedUnshaped++;
          }
        } catch (error) {
          if ((error as Error).name === 'TimeoutError') return count('hung');
          count('dropped');
          const code = (error as { code?: string }).code ?? (error as Error).name;
          const seen = (report.droppedBy[code] ??= {
            count: 0,
            example: `${(error as Error).message} ${String((error as Error).cause ?? '')}`.slice(0, 200),
          });
          seen.count++;
        }
      }),
    );
    report.durationMs = Math.round(performance.now() - started);
    sampling = false;
    await sampler;
    const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
    report.heldPeakMb = mb(peaks.held);
    report.heapTotalPeakMb = mb(peaks.heap);
    report.externalPeakMb = mb(peaks.external);
    report.rssPeakMb = Math.round(Math.max(rssPeak, statusMb(child.pid!, 'VmHWM') || 0));
    const afterStart = performance.now();
    try {
      const response = await request(`${url}/embed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"inputs":"a normal request"}',
        dispatcher: agent,
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      await response.body.text();
      report.afterStatus = response.statusCode;
    } catch (error) {
      report.afterStatus = (error as Error).name;
    }
    report.afterMs = Math.round(performance.now() - afterStart);
    report.heldAfterBytes = (await gauges(url, agent)).held;
    report.proxyAlive = exit === undefined;
    report.proxyExit = exit;
    report.rssBeforeMb = Math.round(report.rssBeforeMb);
    return report;
  } finally {
    sampling = false;
    child.kill('SIGKILL');
    await agent.close();
    sim.child.kill('SIGKILL');
  }
}
