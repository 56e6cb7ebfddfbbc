/**
 * Discovery at start-up (etcd 3.4 `embed.Config.PeerURLsMapAndToken`, `etcdserver.NewServer`):
 * on a data dir never started, `--discovery` or `--discovery-srv` replaces `--initial-cluster`
 * (and, for `--discovery`, the cluster token becomes the discovery URL, as etcd derives member
 * IDs from it); the member then bootstraps as with a static `--initial-cluster`.
 *
 * `--discovery-fallback proxy` (etcd's default) would turn a member refused by a full discovery
 * cluster into a v2 proxy; this server has no proxy mode, so it stops with a clear error instead.
 */
import { existsSync } from "node:fs";
import type { EtcdConfig } from "../config.ts";
import { computeMemberId, idToHex } from "../membership/ids.ts";
import { backendPath } from "../storage/sqlite.ts";
import { DiscoveryError, ErrDuplicateId, ErrDuplicateName, ErrFullCluster, joinDiscoveryCluster } from "./discovery.ts";
import { dnsInitialCluster } from "./srv.ts";

/** Logger with etcd's levels. */
export interface BootstrapLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** A start-up failure already explained in the log: exit 1 without a further fatal line. */
export class DiscoveryExit extends Error {}

/**
 * Returns `cfg` with the discovered `--initial-cluster` (and token), or `cfg` unchanged when no
 * discovery flag is set or the data dir was already initialized.
 * @throws DiscoveryExit after logging etcd's warnings (duplicate ID or name, full cluster, used token)
 * @throws Error for SRV failures (`cannot find local etcd member "x" in SRV records`, lookup errors)
 */
export async function discoverInitialCluster(cfg: EtcdConfig, log: BootstrapLog): Promise<EtcdConfig> {
  const d = cfg.discovery;
  if (!d || (!d.url && !d.srv)) return cfg;
  if (existsSync(backendPath(cfg.dataDir))) {
    if (d.url) log.warn("discovery token is ignored since cluster already initialized; valid logs are found", { "data-dir": cfg.dataDir });
    return cfg;
  }
  if (d.srv) return { ...cfg, initialCluster: await dnsInitialCluster(d.srv, d.srvName, cfg.name, cfg.initialAdvertisePeerUrls, log) };

  const apurls = [...cfg.initialAdvertisePeerUrls].sort();
  const self = apurls.map((u) => `${cfg.name}=${u}`).join(",");
  const id = idToHex(computeMemberId(apurls, d.url));
  let initialCluster: string;
  try {
    initialCluster = await joinDiscoveryCluster({ url: d.url, proxy: d.proxy }, id, self, log);
  } catch (e) {
    if (!(e instanceof DiscoveryError)) throw e;
    explain(cfg, e, log);
    throw new DiscoveryExit(e.message);
  }
  const urls = initialCluster.split(",").map((s) => s.slice(s.indexOf("=") + 1));
  if (new Set(urls).size !== urls.length) throw new Error(`discovery cluster ${initialCluster} has duplicate url`);
  return { ...cfg, initialCluster, initialClusterToken: d.url };
}

/** etcdmain's warnings for a failed discovery (etcdmain/etcd.go startEtcdOrProxyV2). */
function explain(cfg: EtcdConfig, e: DiscoveryError, log: BootstrapLog): void {
  const token = cfg.discovery!.url;
  switch (e.cause.message) {
    case ErrFullCluster:
      if (cfg.discovery!.fallback === "proxy") {
        log.warn("discovery cluster is full, falling back to proxy", { "fallback-proxy": "proxy", error: e.message });
        log.warn("proxy mode is not supported by this etcd: start it with --discovery-fallback=exit, or add the member with 'etcdctl member add'", { error: e.message });
        return;
      }
      break;
    case ErrDuplicateId:
      log.warn("member has been registered with discovery service", { name: cfg.name, "discovery-token": token, error: e.cause.message });
      log.warn("but could not find valid cluster configuration", { "data-dir": cfg.dataDir });
      log.warn("check data dir if previous bootstrap succeeded");
      log.warn("or use a new discovery token if previous bootstrap failed");
      return;
    case ErrDuplicateName:
      log.warn("member with duplicated name has already been registered", { "discovery-token": token, error: e.cause.message });
      log.warn("cURL the discovery token URL for details");
      log.warn("do not reuse discovery token; generate a new one to bootstrap a cluster");
      return;
  }
  log.warn("failed to bootstrap; discovery token was already used", { "discovery-token": token, error: e.message });
  log.warn("do not reuse discovery token; generate a new one to bootstrap a cluster");
}
