/**
 * How the benchmark scripts start each server as its own process: the real-model upstream, the
 * TEI simulator with a cost model, and the proxy through its published CLI (bin/autobatch.js),
 * so that what is measured is what a user runs. All listen on 127.0.0.1, port 0 (a free port).
 */
import { fileURLToPath } from 'node:url';
import type { ServiceSpec } from './service-process.js';

/** The repository root (bench/ is one level below it). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

// Loading the model takes about 3 s on an idle core; a busy machine may need many times that.
const MODEL_START_TIMEOUT_MS = 120_000;
const SERVER_START_TIMEOUT_MS = 30_000;

/** Services that print their URL alone on a line once they listen. */
function plainUrlLine(line: string): string | undefined {
  const trimmed = line.trim();
  return /^http:\/\/\S+$/.test(trimmed) ? trimmed : undefined;
}

/**
 * The Universal Sentence Encoder upstream (bench/upstreams/use-tei-main.ts): one model call per
 * HTTP call, FIFO. Run as `node --import tsx` rather than through the tsx CLI so that the pid
 * signalled is the server itself, not a wrapper.
 */
export function useModelUpstream(): ServiceSpec {
  return {
    name: 'model upstream (USE, TF.js wasm)',
    command: process.execPath,
    args: ['--import', 'tsx', 'bench/upstreams/use-tei-main.ts', '--host', '127.0.0.1', '--port', '0'],
    cwd: REPO_ROOT,
    urlFromLine: plainUrlLine,
    startTimeoutMs: MODEL_START_TIMEOUT_MS,
  };
}

export interface SimulatorCost {
  perCallMs: number;
  perItemMs: number;
  slots: number;
  /** Batch across calls, as TEI does. */
  merge: boolean;
  /** Cost per token of a call's padded length (count × longest), as a CPU backend that pads. */
  padPerTokenMs?: number;
}

/**
 * A CPU model that pads a batch to its longest input: 2 ms a call plus 0.05 ms per word of the
 * padded batch. The simulator charges per token of its BERT-like tokenizer, which cuts the
 * built-in corpus into about 2.3 tokens per word: 0.022 ms per token is the 0.05 ms per word.
 */
export const PADDED_CPU_COST: SimulatorCost = { perCallMs: 2, perItemMs: 0, slots: 1, merge: false, padPerTokenMs: 0.022 };

/** The TEI simulator (dist-sim/sim/main.js) with a cost model. */
export function teiSimulator(cost: SimulatorCost): ServiceSpec {
  const args = [
    'dist-sim/sim/main.js',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--per-call-ms',
    String(cost.perCallMs),
    '--per-item-ms',
    String(cost.perItemMs),
    '--slots',
    String(cost.slots),
  ];
  if (cost.merge) args.push('--merge');
  if (cost.padPerTokenMs !== undefined) args.push('--per-token-ms', String(cost.padPerTokenMs), '--pad');
  return {
    name: `TEI simulator (${simulatorFlags(cost)})`,
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    urlFromLine: plainUrlLine,
    startTimeoutMs: SERVER_START_TIMEOUT_MS,
  };
}

/** The simulator's cost flags as typed on its command line. */
export function simulatorFlags(cost: SimulatorCost): string {
  const padding = cost.padPerTokenMs === undefined ? '' : ` --per-token-ms ${cost.padPerTokenMs} --pad`;
  return `--per-call-ms ${cost.perCallMs} --per-item-ms ${cost.perItemMs} --slots ${cost.slots}${cost.merge ? ' --merge' : ''}${padding}`;
}

/** The proxy with its default settings (batch size from the upstream's /info), logging JSON. */
export function autobatchProxy(upstreamUrl: string, extraArgs: readonly string[] = []): ServiceSpec {
  return {
    name: 'autobatch proxy',
    command: process.execPath,
    args: ['bin/autobatch.js', '--upstream', upstreamUrl, '--host', '127.0.0.1', '--port', '0', '--log-format', 'json', ...extraArgs],
    cwd: REPO_ROOT,
    // The proxy announces itself in its "autobatch listening" log record.
    urlFromLine: (line) => {
      if (!line.includes('autobatch listening')) return undefined;
      try {
        const record = JSON.parse(line) as { url?: unknown };
        return typeof record.url === 'string' ? record.url : undefined;
      } catch {
        return undefined;
      }
    },
    startTimeoutMs: SERVER_START_TIMEOUT_MS,
  };
}
