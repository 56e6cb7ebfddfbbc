/**
 * DNS SRV lookups as etcd 3.4 does them (`pkg/srv/srv.go` over Go's `net.LookupSRV`): records
 * ordered by priority and, within one priority, shuffled by weight; targets keep Go's trailing dot.
 * Used by `etcd --discovery-srv` (server) and `etcdctl --discovery-srv` (v2 mode).
 *
 * Test hook: `ETCD_TS_DNS_SERVER=<ip>:<port>` sends every lookup to that DNS server (e.g. a
 * dnsmasq a test started on loopback) instead of the system resolvers.
 */
import { Resolver } from "node:dns/promises";
import process from "node:process";

/** One SRV record (Go's `net.SRV`); `target` ends with a dot. */
export interface SrvRecord {
  target: string;
  port: number;
  priority: number;
  weight: number;
}

function resolver(): Resolver {
  const r = new Resolver();
  const server = process.env.ETCD_TS_DNS_SERVER;
  if (server) r.setServers([server]);
  return r;
}

/** Go's DNS error text: `lookup <name> on <server>: no such host`. */
function lookupError(name: string, e: unknown): Error {
  const code = (e as { code?: string }).code;
  const server = process.env.ETCD_TS_DNS_SERVER ?? resolver().getServers()[0] ?? "127.0.0.53:53";
  const reason = code === "ENOTFOUND" || code === "ENODATA" ? "no such host" : code === "ETIMEOUT" ? "i/o timeout" : code === "ECONNREFUSED" ? "read: connection refused" : String((e as Error).message);
  return new Error(`lookup ${name} on ${server.includes(":") ? server : server + ":53"}: ${reason}`);
}

/**
 * Go's `net.LookupSRV(service, proto, name)`: records of `_service._proto.name`.
 * @throws Error `lookup _service._proto.name on <server>: no such host`
 */
export async function lookupSrv(service: string, proto: string, name: string): Promise<SrvRecord[]> {
  const fqdn = `_${service}._${proto}.${name}`;
  let records;
  try {
    records = await resolver().resolveSrv(fqdn);
  } catch (e) {
    throw lookupError(fqdn, e);
  }
  const srvs = records.map((r) => ({ target: r.name.endsWith(".") ? r.name : r.name + ".", port: r.port, priority: r.priority, weight: r.weight }));
  srvs.sort((a, b) => a.priority - b.priority);
  return srvs;
}

/**
 * The first IPv4 (else IPv6) address of `host` through the same resolver (Go's resolveTCPAddr
 * host part); IP literals are returned as they are.
 * @throws Error `lookup <host> on <server>: no such host`
 */
export async function resolveHost(host: string): Promise<string> {
  const bare = host.replace(/\.$/, "");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bare) || bare.includes(":")) return bare;
  const r = resolver();
  try {
    return (await r.resolve4(bare))[0]!;
  } catch (e4) {
    try {
      return (await r.resolve6(bare))[0]!;
    } catch {
      throw lookupError(bare, e4);
    }
  }
}

/** etcd's `GetSRVService`: `etcd-client-ssl`, `etcd-server-<name>`, ... */
export function srvService(service: string, serviceName: string, scheme: "http" | "https"): string {
  const s = scheme === "https" ? `${service}-ssl` : service;
  return serviceName ? `${s}-${serviceName}` : s;
}

/** Go's `net.JoinHostPort`. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * etcd's `srv.GetClient(service, domain, serviceName)`: `https://` URLs from `_<service>-ssl._tcp`,
 * then `http://` URLs from `_<service>._tcp`.
 * @throws Error `dns lookup errors: <https error> and <http error>` when both lookups fail
 */
export async function srvClientUrls(service: string, domain: string, serviceName: string): Promise<string[]> {
  const urls: string[] = [];
  const errors: string[] = [];
  for (const scheme of ["https", "http"] as const) {
    try {
      for (const r of await lookupSrv(srvService(service, serviceName, scheme), "tcp", domain)) urls.push(`${scheme}://${joinHostPort(r.target, r.port)}`);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length === 2) throw new Error(`dns lookup errors: ${errors[0]} and ${errors[1]}`);
  return urls;
}
