/**
 * The fixture most proxy tests need: a TEI simulator with a proxy in front of it on a free
 * loopback port, both closed when the test body ends, whatever way it ends (the proxy first, so
 * that it drains into a live upstream; the simulator even when the proxy failed to start).
 */
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy, type StartOptions } from '../../src/proxy.js';
import { startTeiSim, type TeiSim, type TeiSimOptions } from '../../sim/index.js';

const silent = createLogger('silent', 'json');

export async function withSimAndProxy<T>(
  simOptions: TeiSimOptions,
  proxyOptions: Omit<StartOptions, 'upstream'>,
  body: (sim: TeiSim, proxy: RunningProxy) => Promise<T>,
): Promise<T> {
  const sim = await startTeiSim(simOptions);
  try {
    const proxy = await startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger: silent, ...proxyOptions });
    try {
      return await body(sim, proxy);
    } finally {
      await proxy.close();
    }
  } finally {
    await sim.close();
  }
}
