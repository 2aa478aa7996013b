/**
 * Several upstream replicas behind one proxy (TEI runs one model per GPU, so scaling out means
 * replicas). Each call goes to the healthy replica with the least outstanding work (inputs in
 * calls it has not answered yet). A replica is taken out until a health check passes again when
 * it refuses or drops a connection, fails its health check, or answers 5xx to several calls in a
 * row while another replica is healthy (Envoy's outlier detection); a lone replica is never taken
 * out, since there is nowhere else to send its work.
 *
 * The set is fixed (the --upstream URLs) or, with DNS discovery, follows what each upstream's
 * host name resolves to (src/upstream/discovery.ts): every address is a replica of its own,
 * with its own connections, health and outstanding work; a new address joins at once, a
 * vanished one takes no new calls and is closed once its calls in flight are answered.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { UpstreamClient, describeError } from './client.js';
import { isAddressHost, pinnedLookup, type Resolve, type ResolvedAddress } from './discovery.js';

export interface Replica {
  /** The --upstream URL it came from: its host name is what Host headers and TLS name. */
  readonly url: URL;
  /** The address DNS discovery found for it; undefined for an upstream used as given. */
  readonly address: ResolvedAddress | undefined;
  readonly client: UpstreamClient;
  /** Keep-alive agent for requests passed through untouched, reaching the same address. */
  readonly agent: http.Agent;
  healthy: boolean;
  /** Inputs in calls sent to this replica and not answered yet. */
  outstanding: number;
  /** Calls in a row this replica answered with a server error (5xx, or TEI's 424). */
  serverErrors: number;
  /** Ejections for server errors since it last answered a call well; each doubles the next one. */
  ejections: number;
  /** Before this time (performance.now()) a replica ejected for server errors stays out. */
  ejectedUntil: number;
}

/** What /autobatch/ready and the metrics show of one replica. */
export interface ReplicaStatus {
  url: string;
  address?: string;
  healthy: boolean;
  reason?: string;
}

export interface ReplicaSetOptions {
  urls: readonly URL[];
  /** Connections kept to each replica. */
  connections: number;
  timeoutMs: number;
  /** Certificate authorities for https upstreams (see UpstreamClientOptions.ca), for calls and pass-through alike. */
  ca?: readonly string[] | undefined;
  healthIntervalMs: number;
  log: Logger;
  /** Resolve each upstream's host name to its replicas, again every refreshMs; off when undefined. */
  discovery?: { refreshMs: number; resolve: Resolve } | undefined;
  /** Told how many replicas there are after some joined or left. */
  onChange?: ((count: number) => void) | undefined;
  /** Told of each replica DNS discovery adds. */
  onJoin?: ((replica: Replica) => void) | undefined;
}

/**
 * Calls in a row a replica answers with a server error before it is ejected. Lower than Envoy's
 * 5: here every failed call fails a whole batch of clients.
 */
export const SERVER_ERRORS_TO_EJECT = 3;
/** The longest a replica ejected for server errors again and again stays out, as a multiple of the health interval. */
const MAX_EJECTION_DOUBLINGS = 5;
/** A failing replica triggers a DNS refresh at once, but a burst of failures triggers one, not hundreds. */
const MIN_REFRESH_GAP_MS = 1000;

function isServerError(status: number): boolean {
  return status >= 500 || status === 424;
}

export class ReplicaSet {
  private current: Replica[] = [];
  private readonly options: ReplicaSetOptions;
  private readonly log: Logger;
  /** Upstreams whose host name is resolved to replicas. */
  private readonly discovered: URL[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Clients of replicas that left, closing once their calls in flight are answered. */
  private readonly leaving = new Set<Promise<void>>();
  private refreshing: Promise<void> | undefined;
  private lastFailureRefreshAt = -Infinity;
  private closed = false;
  private nextPassthrough = 0;

  constructor(options: ReplicaSetOptions) {
    this.options = options;
    this.log = options.log;
    for (const url of options.urls) {
      if (options.discovery !== undefined && !isAddressHost(url)) this.discovered.push(url);
      else this.current.push(this.create(url, undefined));
    }
    // One fixed replica has nowhere else to send work: checking it would change nothing.
    if (options.urls.length > 1 || this.discovered.length > 0) {
      this.timers.push(setInterval(() => void this.checkAll(), options.healthIntervalMs));
    }
    if (options.discovery !== undefined && this.discovered.length > 0) {
      this.timers.push(setInterval(() => void this.refresh(), options.discovery.refreshMs));
    }
    for (const timer of this.timers) timer.unref();
  }

  /** The replicas now (a new array whenever one joins or leaves). */
  get replicas(): readonly Replica[] {
    return this.current;
  }

  /** Resolves the upstreams' names for the first time (nothing to do without discovery). */
  start(): Promise<void> {
    return this.refresh();
  }

  /** Resolves every discovered name once; one refresh at a time, callers of a running one share it. */
  refresh(): Promise<void> {
    if (this.discovered.length === 0 || this.closed) return Promise.resolve();
    this.refreshing ??= this.resolveAll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * The replica for the next call: healthy first, then least outstanding work. When every
   * replica is out, the least loaded is tried anyway (a health check may simply be late).
   */
  pick(exclude: ReadonlySet<Replica> = new Set()): Replica | undefined {
    let best: Replica | undefined;
    for (const replica of this.current) {
      if (exclude.has(replica)) continue;
      if (best === undefined || (replica.healthy && !best.healthy) || (replica.healthy === best.healthy && replica.outstanding < best.outstanding)) {
        best = replica;
      }
    }
    return best;
  }

  /** Round robin over healthy replicas for requests passed through untouched; undefined when there is none at all. */
  pickForPassthrough(): Replica | undefined {
    const healthy = this.current.filter((replica) => replica.healthy);
    const candidates = healthy.length > 0 ? healthy : this.current;
    if (candidates.length === 0) return undefined;
    this.nextPassthrough = (this.nextPassthrough + 1) % candidates.length;
    return candidates[this.nextPassthrough]!;
  }

  /** A call could not reach the replica (refused, reset): out until a health check passes. */
  markDown(replica: Replica, reason: string): void {
    this.refreshSoon();
    if (this.current.length <= 1) return;
    if (replica.healthy) this.log.warn({ ...where(replica), reason }, 'upstream taken out');
    replica.healthy = false;
  }

  /**
   * Counts the replica's answer to a call: several server errors in a row, while another
   * replica is healthy, eject it; each ejection in a row keeps it out twice as long as the last
   * (at least one health interval), so a replica whose /health passes but whose calls fail
   * costs a few calls per ejection, fewer and fewer, not a few every health interval.
   */
  recordAnswer(replica: Replica, status: number): void {
    if (!isServerError(status)) {
      replica.serverErrors = 0;
      if (status === 200) replica.ejections = 0;
      return;
    }
    replica.serverErrors++;
    if (replica.serverErrors < SERVER_ERRORS_TO_EJECT || !replica.healthy) return;
    // While no other replica answers, the errors are the clients' best answer (as with one upstream).
    if (!this.current.some((other) => other !== replica && other.healthy)) return;
    const ejectionMs = this.options.healthIntervalMs * 2 ** Math.min(replica.ejections, MAX_EJECTION_DOUBLINGS);
    replica.ejections++;
    replica.ejectedUntil = performance.now() + ejectionMs;
    replica.healthy = false;
    this.log.warn({ ...where(replica), status, calls: replica.serverErrors, ejectionMs }, 'upstream ejected: server errors in a row');
    this.refreshSoon();
  }

  /** GET /health on every replica; answers whether at least one is healthy. */
  async checkAll(): Promise<{ ready: boolean; upstreams: ReplicaStatus[] }> {
    const replicas = this.current;
    const results = await Promise.all(
      replicas.map(async (replica): Promise<ReplicaStatus> => {
        let reason: string | undefined;
        try {
          const response = await replica.client.request('GET', '/health', { timeoutMs: 2000 });
          if (response.status !== 200) reason = `/health answered ${response.status}`;
        } catch (error) {
          reason = `unreachable: ${describeError(error)}`;
        }
        const lone = this.current.length <= 1;
        const ejectedForMs = replica.ejectedUntil - performance.now();
        if (reason === undefined && ejectedForMs > 0 && !lone) reason = `ejected after server errors, for ${Math.ceil(ejectedForMs)} ms more`;
        const healthy = reason === undefined;
        if (healthy && !replica.healthy) {
          this.log.info(where(replica), 'upstream back');
          replica.serverErrors = 0;
        }
        if (!healthy && !lone && replica.healthy) this.log.warn({ ...where(replica), reason }, 'upstream taken out');
        if (!healthy) this.refreshSoon();
        replica.healthy = healthy || lone;
        return { url: replica.url.href, ...addressOf(replica), healthy, ...(reason === undefined ? {} : { reason }) };
      }),
    );
    return { ready: results.some((result) => result.healthy), upstreams: results };
  }

  /** The replicas as they are now, for the metrics (no probing). */
  statuses(): (ReplicaStatus & { outstanding: number })[] {
    return this.current.map((replica) => ({
      url: replica.url.href,
      ...addressOf(replica),
      healthy: replica.healthy,
      outstanding: replica.outstanding,
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    // A lookup under way is not waited for: what it finds is dropped (see resolveAll).
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.current.map((replica) => replica.client.close()), ...this.leaving]);
    for (const replica of this.current) replica.agent.destroy();
  }

  private create(url: URL, address: ResolvedAddress | undefined): Replica {
    const lookup = address === undefined ? undefined : pinnedLookup(address);
    const ca = this.options.ca === undefined ? {} : { ca: [...this.options.ca] };
    const agentOptions = { keepAlive: true, ...(lookup === undefined ? {} : { lookup }) };
    return {
      url,
      address,
      client: new UpstreamClient({ url, connections: this.options.connections, timeoutMs: this.options.timeoutMs, ca: this.options.ca, lookup }),
      agent: url.protocol === 'https:' ? new https.Agent({ ...agentOptions, ...ca }) : new http.Agent(agentOptions),
      healthy: true,
      outstanding: 0,
      serverErrors: 0,
      ejections: 0,
      ejectedUntil: -Infinity,
    };
  }

  /** After a failure: the replica may have moved (a restarted pod has a new address). */
  private refreshSoon(): void {
    if (this.discovered.length === 0 || performance.now() - this.lastFailureRefreshAt < MIN_REFRESH_GAP_MS) return;
    this.lastFailureRefreshAt = performance.now();
    void this.refresh();
  }

  private async resolveAll(): Promise<void> {
    const resolve = this.options.discovery!.resolve;
    await Promise.all(
      this.discovered.map(async (url) => {
        const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
        let found: ResolvedAddress[];
        try {
          found = await resolve(hostname);
        } catch (error) {
          const kept = this.current.filter((replica) => replica.url === url).length;
          this.log.warn({ upstream: url.href, error: describeError(error), kept }, 'DNS lookup failed: keeping the replicas found before');
          return;
        }
        if (!this.closed) this.apply(url, found);
      }),
    );
  }

  /** Makes the replicas of one upstream the addresses found: new ones join, vanished ones leave. */
  private apply(url: URL, found: readonly ResolvedAddress[]): void {
    const wanted = new Map(found.map((address) => [address.address, address]));
    const next: Replica[] = [];
    let changed = false;
    for (const replica of this.current) {
      if (replica.url !== url || replica.address === undefined || wanted.delete(replica.address.address)) {
        next.push(replica);
        continue;
      }
      changed = true;
      this.log.info({ ...where(replica), outstanding: replica.outstanding }, 'upstream replica left (DNS)');
      this.retire(replica);
    }
    for (const address of wanted.values()) {
      const replica = this.create(url, address);
      next.push(replica);
      changed = true;
      this.log.info(where(replica), 'upstream replica joined (DNS)');
      this.options.onJoin?.(replica);
    }
    if (!changed) return;
    this.current = next;
    this.options.onChange?.(next.length);
  }

  /**
   * A replica that left takes no new work (it is no longer in the set) and is closed once its
   * calls and pass-through requests in flight are answered.
   */
  private retire(replica: Replica): void {
    const closing = replica.client.close().catch(() => undefined);
    this.leaving.add(closing);
    void closing.then(() => this.leaving.delete(closing));
    // Sockets of requests in flight are closed as their answers end instead of kept alive
    // (node's Agent reads keepAlive each time a socket is freed; @types/node omits the field).
    (replica.agent as http.Agent & { keepAlive: boolean }).keepAlive = false;
    for (const sockets of Object.values(replica.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }
}

function addressOf(replica: Replica): { address?: string } {
  return replica.address === undefined ? {} : { address: replica.address.address };
}

function where(replica: Replica): { upstream: string; address?: string } {
  return { upstream: replica.url.href, ...addressOf(replica) };
}
