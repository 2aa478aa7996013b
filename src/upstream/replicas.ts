/**
 * Several upstream replicas behind one proxy (TEI runs one model per GPU, so scaling out means
 * replicas). Each call goes to the healthy replica with the least outstanding work (inputs in
 * calls it has not answered yet); a replica that refuses or drops a connection, or fails its
 * health check, is taken out until a health check passes again.
 */
import type { Logger } from 'pino';
import { UpstreamClient, describeError } from './client.js';

export interface Replica {
  readonly url: URL;
  readonly client: UpstreamClient;
  healthy: boolean;
  /** Inputs in calls sent to this replica and not answered yet. */
  outstanding: number;
}

export interface ReplicaSetOptions {
  urls: readonly URL[];
  /** Connections kept to each replica. */
  connections: number;
  timeoutMs: number;
  /** Certificate authorities for https upstreams (see UpstreamClientOptions.ca). */
  ca?: readonly string[] | undefined;
  healthIntervalMs: number;
  log: Logger;
}

export class ReplicaSet {
  readonly replicas: readonly Replica[];
  private readonly log: Logger;
  private readonly timer: NodeJS.Timeout | undefined;
  private nextPassthrough = 0;

  constructor(options: ReplicaSetOptions) {
    this.log = options.log;
    this.replicas = options.urls.map((url) => ({
      url,
      client: new UpstreamClient({ url, connections: options.connections, timeoutMs: options.timeoutMs, ca: options.ca }),
      healthy: true,
      outstanding: 0,
    }));
    // One replica has nowhere else to send work: checking it would change nothing.
    if (this.replicas.length > 1) {
      this.timer = setInterval(() => void this.checkAll(), options.healthIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * The replica for the next call: healthy first, then least outstanding work. When every
   * replica is out, the least loaded is tried anyway (a health check may simply be late).
   */
  pick(exclude: ReadonlySet<Replica> = new Set()): Replica | undefined {
    let best: Replica | undefined;
    for (const replica of this.replicas) {
      if (exclude.has(replica)) continue;
      if (
        best === undefined ||
        (replica.healthy && !best.healthy) ||
        (replica.healthy === best.healthy && replica.outstanding < best.outstanding)
      ) {
        best = replica;
      }
    }
    return best;
  }

  /** Round robin over healthy replicas for requests passed through untouched. */
  pickForPassthrough(): Replica {
    const healthy = this.replicas.filter((replica) => replica.healthy);
    const candidates = healthy.length > 0 ? healthy : this.replicas;
    this.nextPassthrough = (this.nextPassthrough + 1) % candidates.length;
    return candidates[this.nextPassthrough]!;
  }

  markDown(replica: Replica, reason: string): void {
    if (this.replicas.length === 1) return;
    if (replica.healthy) this.log.warn({ upstream: replica.url.href, reason }, 'upstream taken out');
    replica.healthy = false;
  }

  /** GET /health on every replica; answers whether at least one is healthy. */
  async checkAll(): Promise<{ ready: boolean; upstreams: { url: string; healthy: boolean; reason?: string }[] }> {
    const results = await Promise.all(
      this.replicas.map(async (replica) => {
        let reason: string | undefined;
        try {
          const response = await replica.client.request('GET', '/health', { timeoutMs: 2000 });
          if (response.status !== 200) reason = `/health answered ${response.status}`;
        } catch (error) {
          reason = `unreachable: ${describeError(error)}`;
        }
        const healthy = reason === undefined;
        if (healthy && !replica.healthy) this.log.info({ upstream: replica.url.href }, 'upstream back');
        if (!healthy && this.replicas.length > 1 && replica.healthy) {
          this.log.warn({ upstream: replica.url.href, reason }, 'upstream taken out');
        }
        replica.healthy = healthy || this.replicas.length === 1;
        return { url: replica.url.href, healthy, ...(reason === undefined ? {} : { reason }) };
      }),
    );
    return { ready: results.some((result) => result.healthy), upstreams: results };
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await Promise.all(this.replicas.map((replica) => replica.client.close()));
  }
}
