/**
 * The long soak: the checks of test/reliability/soak.test.ts over minutes instead of seconds.
 *
 *   node --import tsx bench/soak.ts [--duration 10m] [--clients 300] [--fault-rate 0.05]
 *                                   [--slow-ms 300] [--seed 7]
 *
 * Prints progress every 10 s, then the report and its verdict; exits 1 when a check failed.
 */
import { parseArgs } from 'node:util';
import { runSoak, soakProblems } from '../test/reliability/soak-run.js';

function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new Error(`--duration: "${text}" is not a duration like 90s, 10m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}: "${text}" is not a non-negative number`);
  return value;
}

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    clients: { type: 'string', default: '300' },
    'fault-rate': { type: 'string', default: '0.05' },
    'slow-ms': { type: 'string', default: '300' },
    seed: { type: 'string', default: '7' },
  },
});

const options = {
  durationMs: durationMs(values.duration),
  clients: Math.max(1, Math.floor(positive('clients', values.clients))),
  faultRate: positive('fault-rate', values['fault-rate']),
  slowMs: positive('slow-ms', values['slow-ms']),
  seed: Math.floor(positive('seed', values.seed)),
  requestTimeoutMs: 30_000,
};
console.log(
  `soak: ${options.clients} clients for ${options.durationMs / 1000} s, faults ${options.faultRate * 100}% each (5xx, reset, slow ${options.slowMs} ms), seed ${options.seed}`,
);

let lastPrinted = 0;
const report = await runSoak({
  ...options,
  onProgress: (r) => {
    if (r.durationMs - lastPrinted < 10_000) return;
    lastPrinted = r.durationMs;
    const rate = Math.round(r.requests / (r.durationMs / 1000));
    console.log(
      `${Math.round(r.durationMs / 1000)} s: ${r.requests} requests (${rate}/s), ${r.ok} ok, failures ${JSON.stringify(r.failuresByStatus)}, wrong ${r.wrongAnswers}, unexpected ${r.unexpected}, hung ${r.hung}, dropped ${r.dropped}, RSS peak ${r.rssPeakMb} MB`,
    );
  },
});
console.log(JSON.stringify(report, null, 2));
const problems = soakProblems(report, { rssGrowthMb: 800, heapGrowthAfterWarmUpMb: 40, buffersGrowthAfterWarmUpMb: 20 });
if (problems.length === 0) {
  console.log('PASS: every request answered, every success its own answer, failures only TEI-shaped 5xx, nothing left queued, memory bounded');
} else {
  for (const problem of problems) console.log(`FAIL: ${problem}`);
  process.exitCode = 1;
}
