/**
 * Unmeasured load before a benchmark. The model upstream runs several times slower for its
 * first few hundred calls (WebAssembly tiering up, buffers sized per input shape), and the
 * proxy's code is not yet optimized either; without this, whichever side goes first at the first
 * level pays for it and the ratio at one client comes out far too low.
 */
import { runBench } from '../src/loadgen/index.js';

export interface PrimeOptions {
  proxyUrl: string;
  upstreamUrl: string;
  texts: readonly string[];
  /** Clients; through the proxy they make batches of many sizes, which warm those shapes too. */
  clients: number;
  /** Seconds on each side. */
  seconds: number;
}

/** Sends load through the proxy and straight to the upstream, and forgets the numbers. */
export async function primeServers(options: PrimeOptions): Promise<void> {
  await runBench({
    url: options.proxyUrl,
    baseline: options.upstreamUrl,
    route: '/embed',
    texts: options.texts,
    inputsPerRequest: 1,
    concurrency: [options.clients],
    durationSeconds: options.seconds,
    warmupSeconds: 0,
  });
}
