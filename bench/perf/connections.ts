/**
 * P5, many connections: 5,000 clients each open their own connection to the proxy, send one
 * request and keep the connection open until every client has its answer, so all 5,000 are held
 * by the proxy at once. The upstream is the GPU-like simulator, so requests queue in the proxy
 * and overlap. Every request must be answered (200, one vector) and the proxy's peak resident
 * memory (VmHWM of its process) stay below 200 MB.
 *
 *   node --import tsx bench/perf/connections.ts
 */
import net from 'node:net';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy, simulatorFlags, teiSimulator } from '../service-specs.js';
import {
  GPU_LIKE,
  fixed,
  isMain,
  mb,
  openFilesLimit,
  procMemoryBytes,
  proxyCommand,
  runStandalone,
  say,
  type PerfResult,
  type PerfTiming,
} from './perf-services.js';

const CONNECTIONS = 5000;
const MAX_RSS_BYTES = 200 * 1000 * 1000;
// Connections are opened in waves so that the listen backlog (511 in node) is not overrun.
const CONNECT_WAVE = 250;
const DEADLINE_MS = 120_000;
// Each connection needs a descriptor in the proxy and one here, plus what node itself holds.
const FILES_NEEDED = CONNECTIONS + 1000;

interface ClientOutcome {
  ok: boolean;
  detail: string;
}

/** One client: a connection of its own, one request, the answer read, the connection kept. */
function openClient(url: URL, index: number, sockets: net.Socket[], inFlight: { now: number; max: number }): Promise<ClientOutcome> {
  const body = JSON.stringify({ inputs: `connection ${index} asks for its own vector` });
  const request =
    `POST /embed HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`;
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    sockets.push(socket);
    let received = Buffer.alloc(0);
    let settled = false;
    let sent = false;
    const settle = (outcome: ClientOutcome): void => {
      if (settled) return;
      settled = true;
      if (sent) inFlight.now -= 1;
      resolve(outcome);
    };
    socket.on('connect', () => {
      sent = true;
      inFlight.now += 1;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const headerEnd = received.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = received.subarray(0, headerEnd).toString('latin1');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length === null) return settle({ ok: false, detail: `no content-length: ${head.split('\r\n')[0]}` });
      if (received.length - headerEnd - 4 < Number(length[1])) return;
      const status = head.split(' ')[1];
      const answer = received.subarray(headerEnd + 4).toString('utf8');
      let oneVector: boolean;
      try {
        const parsed = JSON.parse(answer) as unknown;
        oneVector = Array.isArray(parsed) && parsed.length === 1 && Array.isArray(parsed[0]) && parsed[0].length > 0;
      } catch {
        oneVector = false;
      }
      settle(status === '200' && oneVector ? { ok: true, detail: '' } : { ok: false, detail: `${status}: ${answer.slice(0, 120)}` });
    });
    socket.on('error', (error) => settle({ ok: false, detail: error.message }));
    socket.on('close', () => settle({ ok: false, detail: 'closed before the answer' }));
  });
}

export async function measureConnections(services: ServiceGroup, _timing: PerfTiming): Promise<PerfResult> {
  const ownLimit = openFilesLimit('self') ?? 0;
  if (ownLimit < FILES_NEEDED) {
    throw new Error(`P5 needs ${FILES_NEEDED} open files and this process may open ${ownLimit}: run it under \`ulimit -n 20000\``);
  }
  const upstream = await services.start(teiSimulator(GPU_LIKE));
  // The proxy inherits this process's limit; the shell raises it where the hard limit allows.
  const spec = autobatchProxy(upstream.url);
  const proxy = await services.start({
    ...spec,
    command: '/bin/sh',
    args: ['-c', `ulimit -n ${FILES_NEEDED * 2} 2>/dev/null; exec "$0" "$@"`, spec.command, ...spec.args],
  });
  const sockets: net.Socket[] = [];
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, procMemoryBytes(proxy.pid, 'VmRSS') ?? 0);
  }, 100);
  try {
    const proxyLimit = openFilesLimit(proxy.pid);
    const idleRss = procMemoryBytes(proxy.pid, 'VmRSS');
    say(`P5: ${CONNECTIONS} connections to ${proxy.url} (open files: here ${ownLimit}, proxy ${String(proxyLimit)})`);
    const url = new URL(proxy.url);
    const started = Date.now();
    const outcomes: Array<Promise<ClientOutcome>> = [];
    const inFlight = { now: 0, max: 0 };
    for (let i = 0; i < CONNECTIONS; i += CONNECT_WAVE) {
      const wave: Array<Promise<void>> = [];
      for (let j = i; j < Math.min(i + CONNECT_WAVE, CONNECTIONS); j++) {
        const outcome = openClient(url, j, sockets, inFlight);
        outcomes.push(outcome);
        const socket = sockets[sockets.length - 1]!;
        wave.push(new Promise((resolve) => socket.once('connect', () => resolve()).once('error', () => resolve())));
      }
      await Promise.all(wave);
    }
    const connectedMs = Date.now() - started;
    const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), DEADLINE_MS).unref());
    const all = await Promise.race([Promise.all(outcomes), deadline]);
    const answeredMs = Date.now() - started;
    // Still open when the last answer came: the proxy held every connection at once.
    const openAtEnd = sockets.filter((socket) => !socket.destroyed && socket.readyState === 'open').length;
    peakRss = Math.max(peakRss, procMemoryBytes(proxy.pid, 'VmRSS') ?? 0);
    const hwm = procMemoryBytes(proxy.pid, 'VmHWM');
    const answered = all === 'deadline' ? 0 : all.filter((outcome) => outcome.ok).length;
    const failures =
      all === 'deadline'
        ? [`no complete set of answers within ${DEADLINE_MS / 1000} s`]
        : [...new Set(all.filter((o) => !o.ok).map((o) => o.detail))].slice(0, 5);
    const memory = hwm ?? peakRss;
    const details = [
      '### P5 connections',
      '',
      `Simulator \`${simulatorFlags(GPU_LIKE)}\`; proxy \`${proxyCommand()}\` (open files: load generator ${ownLimit}, proxy ${String(proxyLimit)}). ` +
        `${CONNECTIONS} raw TCP connections opened in waves of ${CONNECT_WAVE}, one POST /embed of one input each, every connection kept open until all were answered.`,
      '',
      `- answered correctly: ${answered} of ${CONNECTIONS}; connections still open when the last answer came: ${openAtEnd}; most requests awaiting an answer at once: ${inFlight.max}`,
      `- all connected after ${fixed(connectedMs / 1000, 2)} s, all answered after ${fixed(answeredMs / 1000, 2)} s`,
      `- proxy memory: ${mb(idleRss)} RSS idle before the load, ${mb(peakRss)} highest RSS sampled every 100 ms, VmHWM ${mb(hwm)}`,
      ...(failures.length > 0 ? [`- failures: ${failures.join('; ')}`] : []),
    ].join('\n');
    return {
      rows: [
        {
          id: 'P5',
          what: `${CONNECTIONS} connections held at once: requests answered`,
          target: `all ${CONNECTIONS}`,
          measured: `${answered} (${openAtEnd} connections open at the end)`,
          met: answered === CONNECTIONS && openAtEnd === CONNECTIONS,
        },
        {
          id: 'P5',
          what: `${CONNECTIONS} connections: proxy peak RSS (VmHWM)`,
          target: '< 200 MB',
          measured: `${fixed(memory / 1e6, 1)} MB (idle ${fixed((idleRss ?? 0) / 1e6, 1)} MB)`,
          met: memory > 0 && memory < MAX_RSS_BYTES,
        },
      ],
      details,
    };
  } finally {
    clearInterval(sampler);
    for (const socket of sockets) socket.destroy();
    await proxy.stop();
    await upstream.stop();
  }
}

if (isMain(import.meta.url)) await runStandalone(measureConnections);
