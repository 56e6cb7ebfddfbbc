/**
 * `--discovery-srv <domain>` (etcd 3.4 `embed/config.go` GetDNSClusterNames, `pkg/srv/srv.go`
 * GetCluster): the initial cluster from DNS SRV records `_etcd-server-ssl[-<name>]._tcp.<domain>`
 * (`https://` peers) and `_etcd-server[-<name>]._tcp.<domain>` (`http://` peers). A record whose
 * target resolves to the address of one of this member's `--initial-advertise-peer-urls` gets
 * this member's `--name`; the others are named `0`, `1`, ... in record order (etcd learns their
 * real names when they publish).
 *
 * One deliberate difference: etcd 3.4.23 keeps the `http` records only when their lookup FAILED
 * (an inverted check in GetDNSClusterNames, fixed in etcd 3.5), which makes plain-http SRV
 * bootstrap impossible there; we keep them when the lookup succeeds.
 * Lookups go through cli/go/dns-srv.ts (test hook `ETCD_TS_DNS_SERVER`).
 */
import { joinHostPort, lookupSrv, resolveHost } from "../../cli/go/dns-srv.ts";

/** Log sink (the member's logger). */
export interface SrvLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** host:port with the host resolved to an address (Go's resolveTCPAddr(...).String()). */
async function tcpAddr(hostPort: string): Promise<string> {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(hostPort);
  if (!m) throw new Error(`address ${hostPort}: missing port in address`);
  return joinHostPort(await resolveHost(m[1]!), m[2]!);
}

/**
 * srv.GetCluster: `name=scheme://target:port` entries for `_<service>._tcp.<domain>`.
 * @throws Error `error querying DNS SRV records for _<service> <reason>`
 */
export async function srvCluster(scheme: "http" | "https", service: string, name: string, domain: string, apurls: string[], nextName: { n: number }): Promise<string[]> {
  const self = new Map<string, URL>();
  for (const u of apurls) {
    const url = new URL(u);
    self.set(await tcpAddr(url.host), url);
  }
  const parts: string[] = [];
  let lastErr: Error | undefined;
  try {
    for (const srv of await lookupSrv(service, "tcp", domain)) {
      let addr: string;
      try {
        addr = await tcpAddr(joinHostPort(srv.target, srv.port));
      } catch (e) {
        lastErr = e as Error;
        continue;
      }
      const mine = self.get(addr);
      const n = mine ? name : String(nextName.n++);
      const urlHost = joinHostPort(srv.target.replace(/\.$/, ""), srv.port);
      if (mine && mine.protocol !== `${scheme}:`) {
        lastErr = new Error(`bootstrap at ${scheme}://${urlHost} from DNS for ${service} has scheme mismatch with expected peer ${mine.href.replace(/\/$/, "")}`);
      } else parts.push(`${n}=${scheme}://${urlHost}`);
    }
  } catch (e) {
    lastErr = e as Error;
  }
  if (parts.length === 0) throw new Error(`error querying DNS SRV records for _${service} ${lastErr?.message ?? ""}`);
  return parts;
}

/**
 * GetDNSClusterNames + PeerURLsMapAndToken's SRV case: the `--initial-cluster` string.
 * @throws Error when neither lookup found a record, or `cannot find local etcd member "<name>" in SRV records`
 */
export async function dnsInitialCluster(domain: string, serviceName: string, name: string, apurls: string[], log: SrvLog): Promise<string> {
  const suffix = serviceName ? `-${serviceName}` : "";
  const nextName = { n: 0 };
  const found: string[] = [];
  const errors: string[] = [];
  for (const [scheme, service] of [["https", `etcd-server-ssl${suffix}`], ["http", `etcd-server${suffix}`]] as const) {
    let strs: string[] = [];
    try {
      strs = await srvCluster(scheme, service, name, domain, apurls, nextName);
    } catch (e) {
      errors.push((e as Error).message);
    }
    log.info(`get cluster for ${service.replace(suffix, "")} SRV`, { "service-scheme": scheme, "service-name": service, "server-name": name, "discovery-srv": domain, "advertise-peer-urls": apurls, "found-cluster": strs });
    found.push(...strs);
  }
  if (found.length === 0) {
    const err = errors.join("; ");
    log.warn("failed to resolve during SRV discovery", { error: err });
    throw new Error(err);
  }
  for (const s of found) log.info("got bootstrap from DNS for etcd-server", { node: s });
  if (!found.some((s) => s.startsWith(`${name}=`))) throw new Error(`cannot find local etcd member "${name}" in SRV records`);
  return found.join(",");
}
