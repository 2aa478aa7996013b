/**
 * DNS discovery of replicas (`--dns-refresh-ms`), as Envoy's strict-DNS clusters, gRPC's dns:///
 * resolver and Prometheus's DNS service discovery do it: an upstream's host name stands for
 * every address it resolves to, and each address is a replica of its own. On Kubernetes this is
 * a headless Service, whose name resolves to the addresses of its ready pods; balancing them one
 * by one is what a ClusterIP Service's per-connection spreading cannot do.
 *
 * This file only answers "which addresses does this name have now"; the replica set decides
 * what joins and what leaves (src/upstream/replicas.ts).
 */
import dns from 'node:dns';
import net from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name has now (A and AAAA); rejects when the lookup fails or finds none. */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

/** How long one lookup may take against a given server before it counts as failed. */
const LOOKUP_TIMEOUT_MS = 2000;

/**
 * Without a server, the system's resolver (getaddrinfo): the search domains of
 * /etc/resolv.conf (a pod's `tei` is `tei.<namespace>.svc.cluster.local`) and /etc/hosts apply,
 * as for every other program on the machine. With `server` (host:port), A and AAAA queries go
 * to that resolver only, and a short name is asked as it is written.
 */
export function createResolve(server?: string): Resolve {
  if (server === undefined) {
    return async (hostname) => {
      const found = await dns.promises.lookup(hostname, { all: true });
      return checked(
        hostname,
        found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 })),
      );
    };
  }
  const resolver = new dns.promises.Resolver({ timeout: LOOKUP_TIMEOUT_MS, tries: 2 });
  resolver.setServers([server]);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    // A name with only A (or only AAAA) records answers "no data" for the other family.
    if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason;
    const found: ResolvedAddress[] = [];
    if (v4.status === 'fulfilled') found.push(...v4.value.map((address) => ({ address, family: 4 as const })));
    if (v6.status === 'fulfilled') found.push(...v6.value.map((address) => ({ address, family: 6 as const })));
    return checked(hostname, found);
  };
}

/**
 * An empty answer counts as a failed lookup: the last good set is kept. A name that briefly
 * resolves to nothing (a rollout, a DNS hiccup) must not take every replica away at once; a
 * replica that is really gone is refused, and taken out by the health checks.
 */
function checked(hostname: string, found: ResolvedAddress[]): ResolvedAddress[] {
  if (found.length === 0) throw new Error(`${hostname} resolved to no address`);
  return found;
}

/** Checks a `--dns-server` value; answers what is wrong with it, or undefined. */
export function dnsServerProblem(server: string): string | undefined {
  try {
    new dns.Resolver().setServers([server]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** True for a URL host that is an address already (nothing to resolve). */
export function isAddressHost(url: URL): boolean {
  return net.isIP(url.hostname.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/**
 * A lookup that always answers this address, for connections to one resolved replica: the
 * connection still names the host (TLS server name, certificate check, Host header) but reaches
 * this address. Answers in both forms net.connect asks for (one address, or all of them).
 */
export function pinnedLookup(target: ResolvedAddress): net.LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}
