#!/usr/bin/env node
/**
 * Start-up time of a shipped form of autobatch: from spawning the process to the first 200 from
 * its /autobatch/health, with a small TEI-shaped upstream on loopback. Prints the median and the
 * range over --runs starts (the numbers in docs/operations.md come from here), and on Linux the CPU time
 * the process had used by then, which depends less on what else the machine is doing.
 *
 *   node scripts/measure-startup.mjs [--runs 10] -- <command> [args...]
 *   node scripts/measure-startup.mjs -- ./dist/autobatch
 *   node scripts/measure-startup.mjs -- node bin/autobatch.js
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '10' } }, allowPositionals: true });
const runs = Number(values.runs);
if (positionals.length === 0 || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node scripts/measure-startup.mjs [--runs N] -- <command> [args...]');
  process.exit(2);
}
const [command, ...args] = positionals;

const upstream = createServer((request, response) => {
  const body = request.url === '/info' ? { model_id: 'tiny', max_client_batch_size: 32 } : {};
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** User + system CPU time of a process so far, from /proc (clock ticks of 10 ms); NaN elsewhere. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function startOnce() {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, {
    stdio: 'ignore',
    env: { ...process.env, AUTOBATCH_UPSTREAM: upstreamUrl, AUTOBATCH_HOST: '127.0.0.1', AUTOBATCH_PORT: String(port), AUTOBATCH_LOG_LEVEL: 'warn' },
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    // Polls every 2 ms for at most 30 s.
    for (let attempt = 0; attempt < 15_000; attempt++) {
      if (exited) throw new Error(`${command} exited before answering`);
      const ok = await fetch(`http://127.0.0.1:${port}/autobatch/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return { wall: performance.now() - started, cpu: cpuMs(child.pid) };
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`${command} did not answer within 30 s`);
  } finally {
    child.kill('SIGTERM');
    if (!exited) await new Promise((resolve) => child.once('exit', resolve));
  }
}

const samples = [];
for (let i = 0; i < runs; i++) samples.push(await startOnce());
upstream.close();
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
const wall = samples.map((sample) => sample.wall).sort((a, b) => a - b);
const cpu = median(samples.map((sample) => sample.cpu));
console.log(
  `${[command, ...args].join(' ')}: start to /autobatch/health 200 in ${median(wall).toFixed(0)} ms median ` +
    `(${wall[0].toFixed(0)}–${wall.at(-1).toFixed(0)} ms over ${runs} runs), ${Number.isNaN(cpu) ? '?' : cpu} ms CPU`,
);
