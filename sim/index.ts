/**
 * A TEI-compatible upstream for tests and benchmarks.
 *
 * text-embeddings-inference cannot run here, so this server answers like it: the same routes,
 * request parsing (down to serde's error texts), validation order and messages, response
 * shapes, float formatting, headers and status codes, with a deterministic fake model. Every
 * answer is a pure function of the request, so a client's answer through a batching proxy can
 * be compared byte for byte with the answer to the same request sent alone. An optional cost
 * model makes it a benchmark upstream.
 */

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { TeiEngine } from './engine.js';
import { type FaultCounts, FaultInjector } from './faults.js';
import { type TeiSimStats, createTeiServer } from './http-server.js';
import { type TeiSimOptions, resolveConfig } from './sim-config.js';

export type { FaultCounts, TeiSimFaults } from './faults.js';
export type { TeiSimStats } from './http-server.js';
export type { TeiSimCostModel, TeiSimModelKind, TeiSimOptions } from './sim-config.js';

export interface TeiSim {
  readonly url: string;
  readonly port: number;
  /** Live counters of inference calls; reset with resetStats(). */
  readonly stats: TeiSimStats;
  /** Faults injected so far (all zero without the `faults` option); reset with resetStats(). */
  readonly faults: Readonly<FaultCounts>;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startTeiSim(options: TeiSimOptions = {}): Promise<TeiSim> {
  const config = resolveConfig(options);
  const engine = new TeiEngine(config);
  const stats: TeiSimStats = {
    calls: 0,
    items: 0,
    callsByRoute: {},
    batchSizes: [],
    backendBatchSizes: engine.scheduler?.batchSizes ?? [],
  };
  const faults = config.faults === undefined ? undefined : new FaultInjector(config.faults);
  const server = createTeiServer(config, engine, stats, faults);
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}`,
    port,
    stats,
    faults: faults?.counts ?? { errors: 0, resets: 0, slow: 0 },
    resetStats() {
      faults?.resetCounts();
      stats.calls = 0;
      stats.items = 0;
      for (const route of Object.keys(stats.callsByRoute)) delete stats.callsByRoute[route];
      stats.batchSizes.length = 0;
      stats.backendBatchSizes.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        engine.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
