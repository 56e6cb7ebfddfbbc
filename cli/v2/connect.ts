/**
 * etcdctl v2's client construction (`ctlv2/command/util.go`): endpoints from `--discovery-srv`
 * (SRV `_etcd-client-ssl._tcp` / `_etcd-client._tcp`), else `--endpoints`, `ETCDCTL_ENDPOINTS`,
 * `--endpoint`, `ETCDCTL_ENDPOINT`, `--peers`, `ETCDCTL_PEERS`, else the default; TLS files and
 * `--username` from flags or `ETCDCTL_*`; then, unless `--no-sync`, a `Sync` from `/v2/members`.
 */
import { readFileSync } from "node:fs";
import { goPathError } from "../go/errno.ts";
import { goParseUrl } from "../go/url.ts";
import { askPassword } from "../password.ts";
import { V2Client, V2ClientError, ERR_NO_ENDPOINTS, type V2Tls } from "./client.ts";
import { syncEndpoints } from "./members.ts";
import { exitWith, handleError, totalDeadline, V2Exit, type V2Context } from "./context.ts";
import { srvClientUrls } from "../go/dns-srv.ts";

const DEFAULT_ENDPOINTS = "http://127.0.0.1:2379,http://127.0.0.1:4001";

function peersFlagValue(ctx: V2Context): string[] {
  const g = ctx.global;
  const s =
    g.string("endpoints") || ctx.env.ETCDCTL_ENDPOINTS || g.string("endpoint") || ctx.env.ETCDCTL_ENDPOINT || g.string("peers") || ctx.env.ETCDCTL_PEERS || DEFAULT_ENDPOINTS;
  return s.split(",");
}

/** getDiscoveryDomain: domain, whether insecure endpoints are kept, service name. */
function discoveryDomain(ctx: V2Context): { domain: string; insecure: boolean; serviceName: string } {
  return {
    domain: ctx.global.string("discovery-srv") || ctx.env.ETCDCTL_DISCOVERY_SRV || "",
    insecure: ctx.global.bool("insecure-discovery") || !!ctx.env.ETCDCTL_INSECURE_DISCOVERY,
    serviceName: ctx.env.ETCDCTL_DISCOVERY_SRV_NAME ?? "",
  };
}

/** getEndpoints: SRV-discovered endpoints (secure only unless `--insecure-discovery`), else the flags. */
async function endpoints(ctx: V2Context): Promise<string[]> {
  const { domain, insecure, serviceName } = discoveryDomain(ctx);
  let eps: string[] = [];
  if (domain) {
    eps = await srvClientUrls("etcd-client", domain, serviceName);
    if (!insecure) {
      eps = eps.filter((ep) => {
        if (!ep.startsWith("http://")) return true;
        ctx.out.eprintln(`ignoring discovered insecure endpoint "${ep}"`);
        return false;
      });
    }
  }
  if (eps.length === 0) eps = peersFlagValue(ctx);
  return eps.map((ep) => {
    const u = goParseUrl(ep);
    return u.scheme === "" ? `http://${ep}` : ep;
  });
}

/**
 * getTransport's TLS files (etcd `transport.TLSInfo.ClientConfig`): certificate and key go
 * together, each file must be readable; failures print Go's error and exit 1.
 */
function readTls(ctx: V2Context): V2Tls {
  const g = ctx.global;
  const caFile = g.string("ca-file") || ctx.env.ETCDCTL_CA_FILE || "";
  const certFile = g.string("cert-file") || ctx.env.ETCDCTL_CERT_FILE || "";
  const keyFile = g.string("key-file") || ctx.env.ETCDCTL_KEY_FILE || "";
  const read = (path: string): Uint8Array => {
    try {
      return readFileSync(path);
    } catch (e) {
      exitWith(ctx, 1, goPathError("open", path, e));
    }
  };
  const tls: V2Tls = {};
  if (certFile || keyFile) {
    if (!certFile || !keyFile) exitWith(ctx, 1, `KeyFile and CertFile must both be present[key: ${keyFile}, cert: ${certFile}]`);
    tls.cert = read(certFile);
    tls.key = read(keyFile);
  }
  if (caFile) tls.ca = read(caFile);
  return tls;
}

/** newClient: endpoints, TLS files, credentials (prompting `Password: ` when none follow a colon). */
async function newClient(ctx: V2Context): Promise<V2Client> {
  let eps: string[];
  try {
    eps = await endpoints(ctx);
  } catch (e) {
    exitWith(ctx, 1, (e as Error).message);
  }
  const g = ctx.global;
  const user = g.string("username") || ctx.env.ETCDCTL_USERNAME || "";
  let credentials: { username: string; password: string } | undefined;
  if (user) {
    const colon = user.indexOf(":");
    credentials = colon < 0 ? { username: user, password: await askPassword("Password: ", ctx.out, ctx.stdin) } : { username: user.slice(0, colon), password: user.slice(colon + 1) };
  }
  return new V2Client({
    endpoints: eps,
    headerTimeoutMs: g.durationMs("timeout"),
    tls: readTls(ctx),
    credentials,
    // etcdctl enables cURL output after building the client, before the first request.
    debug: g.bool("debug") ? (line) => ctx.out.eprintln(line) : undefined,
  });
}

/** mustNewClientNoSync. */
export async function clientNoSync(ctx: V2Context): Promise<V2Client> {
  const c = await newClient(ctx);
  if (ctx.global.bool("debug")) ctx.out.eprintln(`Cluster-Endpoints: ${c.currentEndpoints().join(", ")}`);
  return c;
}

/**
 * mustNewClient: a client synced to the members' client URLs unless `--no-sync`. A sync that
 * finds no published client URL exits 4, one that cannot connect exits 2; other sync errors are
 * ignored (the request itself will report them).
 */
export async function mustClient(ctx: V2Context): Promise<V2Client> {
  const c = await newClient(ctx);
  const debug = ctx.global.bool("debug");
  if (!ctx.global.bool("no-sync")) {
    if (debug) ctx.out.eprintln(`start to sync cluster using endpoints(${c.currentEndpoints().join(",")})`);
    try {
      await syncEndpoints(c, totalDeadline(ctx));
    } catch (e) {
      if (!(e instanceof V2ClientError)) throw e;
      if (e.message === ERR_NO_ENDPOINTS) {
        ctx.out.eprintln("etcd cluster has no published client endpoints.");
        ctx.out.eprintln(`Try '--no-sync' if you want to access non-published client endpoints(${c.currentEndpoints().join(",")}).`);
        handleError(ctx, V2Exit.ServerError, e);
      }
      if (e.connection) handleError(ctx, V2Exit.BadConnection, e);
    }
    if (debug) ctx.out.eprintln(`got endpoints(${c.currentEndpoints().join(",")}) after sync`);
  }
  if (debug) ctx.out.eprintln(`Cluster-Endpoints: ${c.currentEndpoints().join(", ")}`);
  return c;
}
