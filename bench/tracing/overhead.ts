/**
 * What tracing costs the proxy: the same proxy (the CLI, in its own process) with tracing off and
 * on (every span exported over OTLP/HTTP to a local receiver), in front of the TEI simulator,
 * loaded by `autobatch bench` in closed loop, off and on alternately in one run so both see the
 * same machine. Prints, per run, throughput, p99 and the proxy process's CPU time per request (from
 * /proc, Linux only): on a busy shared machine throughput and latency swing with the neighbours,
 * while CPU time per request is what tracing itself adds. Then the on/off ratios.
 *
 *   npm run build && node --import tsx bench/tracing/overhead.ts [--seconds 4] [--concurrency 32] [--rounds 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runBench } from '../../src/loadgen/run-bench.js';
import { startTeiSim } from '../../sim/index.js';
import { startOtlpReceiver } from '../../test/support/otlp-receiver.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '4' }, concurrency: { type: 'string', default: '32' }, rounds: { type: 'string', default: '2' } },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const cli = resolve(import.meta.dirname, '../../bin/autobatch.js');

async function startCli(upstream: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
  const child = spawn(process.execPath, [cli, '--upstream', upstream, '--host', '127.0.0.1', '--port', '0', '--log-format', 'json'], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match !== null) done(match[1]!);
    });
    child.once('exit', (code) => fail(new Error(`proxy exited with ${code}: ${output}`)));
  });
  return { url, child };
}

/** User plus system CPU seconds a process has used (Linux /proc; clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

const sim = await startTeiSim({});
const receiver = await startOtlpReceiver();
const results: { tracing: string; rps: number; p99: number; cpuUs: number }[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const tracing of ['off', 'on'] as const) {
      const env: Record<string, string> =
        tracing === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'autobatch-overhead' } : {};
      const proxy = await startCli(sim.url, env);
      // Counted over the whole run, warm-up included: requests from the proxy's own counter.
      const cpuBefore = cpuSeconds(proxy.child.pid!);
      const report = await runBench({ url: proxy.url, concurrency: [concurrency], durationSeconds: seconds, warmupSeconds: 1 });
      const cpu = cpuSeconds(proxy.child.pid!) - cpuBefore;
      const metrics = await (await fetch(`${proxy.url}/autobatch/metrics`)).text();
      const requests = [...metrics.matchAll(/^autobatch_requests_total\{[^}]*\} (\S+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
      await stop(proxy.child);
      const run = report.levels[0]!.target;
      const cpuUs = (cpu / requests) * 1e6;
      results.push({ tracing, rps: run.requestsPerSecond, p99: run.latencyMs?.p99 ?? Number.NaN, cpuUs });
      console.log(
        `round ${round + 1} tracing ${tracing}: ${run.requestsPerSecond.toFixed(0)} req/s, p99 ${run.latencyMs?.p99.toFixed(2)} ms, ` +
          `${run.errorCount} errors, proxy CPU ${cpuUs.toFixed(0)} µs per request (${requests} requests)`,
      );
    }
  }
} finally {
  await receiver.close();
  await sim.close();
}
const mean = (tracing: string, key: 'rps' | 'p99' | 'cpuUs'): number => {
  const runs = results.filter((result) => result.tracing === tracing);
  return runs.reduce((sum, result) => sum + result[key], 0) / runs.length;
};
console.log(`spans received: ${receiver.spans.length}`);
console.log(
  `on/off: proxy CPU per request ${(mean('on', 'cpuUs') / mean('off', 'cpuUs')).toFixed(3)}x ` +
    `(${mean('off', 'cpuUs').toFixed(0)} -> ${mean('on', 'cpuUs').toFixed(0)} µs); ` +
    `throughput ${(mean('on', 'rps') / mean('off', 'rps')).toFixed(3)}x, p99 ${(mean('on', 'p99') / mean('off', 'p99')).toFixed(3)}x`,
);
