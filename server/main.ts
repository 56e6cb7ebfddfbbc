/**
 * Entry of the `etcd` binary: parse flags and `ETCD_*` variables or `--config-file`
 * (server/config.ts, server/config-file.ts), start the member (server/node/etcd-node.ts), the
 * client listeners (server/http/listener.ts) and the `--listen-metrics-urls` listeners
 * (server/metrics/listener.ts) with one `/metrics` registry (server/metrics/registry.ts), log
 * etcd's start-up lines as zap-style JSON to `--log-outputs` (server/log-outputs.ts), tell
 * systemd the member is ready (server/systemd/notify.ts), and stop cleanly on SIGINT/SIGTERM
 * (exit 0). Start-up failures (data dir locked, port in use, bad bootstrap flags) log a
 * `"level":"fatal"` line and exit 1; flag syntax errors exit 2 and validation errors exit 1,
 * as etcd 3.4 does (etcdmain/etcd.go, embed/etcd.go).
 */
import { parseConfig, ETCD_SERVER_VERSION, GIT_SHA, type EtcdConfig } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";
import { openLogOutputs, type LogOutputs } from "./log-outputs.ts";
import { sdNotify } from "./systemd/notify.ts";
import { idToHex } from "./membership/ids.ts";
import { startClientListeners, type ClientListeners } from "./http/listener.ts";
import type { EtcdServerApi } from "./node/types.ts";
import { errorFields, fatal, isMemberFatal, MemberFatalError } from "./node/fatal.ts";
import { discoverInitialCluster, DiscoveryExit } from "./discovery/bootstrap.ts";
import { resolveAutoTls } from "./tls/auto-tls.ts";
import { describeTlsInfo, isTlsInfoEmpty } from "./tls/tls-info.ts";
import { GrpcStats } from "./metrics/grpc-stats.ts";
import { parseCompactionRetention } from "./compactor/compactor.ts";
import { goDurationString } from "../cli/go/duration.ts";
import { startMetricsListeners, type MetricsListeners } from "./metrics/listener.ts";
import { createMetricsRegistry, type MemberMetricsSource } from "./metrics/registry.ts";

/**
 * A started member as main needs it: the API plus close(), and `removed`, which resolves when
 * the member was removed from its cluster (the process then stops, exit code 0, as etcd's).
 */
export type RunningNode = EtcdServerApi & {
  close(): Promise<void>;
  removed?: Promise<void>;
  /** What `/metrics` reads at scrape time (server/metrics/registry.ts); test fakes may leave it out. */
  metricsSource?(): MemberMetricsSource;
};
/** Starts the member (server/node/etcd-node.ts `startEtcdNode`). */
export type StartNode = (cfg: EtcdConfig, log: Logger) => Promise<RunningNode>;

/** The real member; loaded on first use so that tests of this file can run without SQLite. */
const startRealNode: StartNode = async (cfg, log) => (await import("./node/member.ts")).startMember(cfg, log);

/** A running server: member plus client listeners. */
export interface RunningEtcd {
  node: RunningNode;
  listeners: ClientListeners;
  /** `--listen-metrics-urls` listeners (none when the flag is empty). */
  metricsListeners?: MetricsListeners;
  /** Closes the listeners, then the member. */
  stop(): Promise<void>;
}

function ms(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

/**
 * Starts the member and its client listeners and logs etcd's start-up lines (`starting an etcd
 * server`, `starting local member` with member and cluster ID, `ready to serve client
 * requests`, per address the insecure-serving warning or `serving client traffic securely`).
 * `--auto-tls`/`--peer-auto-tls` certificates are made first (server/tls/auto-tls.ts). Rejects
 * with the start-up error; if the listeners fail, the member is closed first.
 */
export async function startEtcd(givenCfg: EtcdConfig, log: Logger, startNode: StartNode = startRealNode): Promise<RunningEtcd> {
  const cfg = await resolveAutoTls(givenCfg, log);
  const compactionMode = cfg.autoCompactionMode ?? "periodic";
  // A bad retention fails here, as etcd's StartEtcd does (error parsing CompactionRetention: ...).
  const compactionRetention = goDurationString(BigInt(Math.round(parseCompactionRetention(compactionMode, cfg.autoCompactionRetention ?? "0"))));
  log.info("configuring client listeners", { "listen-client-urls": cfg.listenClientUrls });
  log.info("starting an etcd server", {
    "etcd-version": ETCD_SERVER_VERSION,
    "git-sha": GIT_SHA,
    "runtime-version": typeof Bun !== "undefined" ? `bun ${Bun.version}` : process.version,
    os: process.platform,
    arch: process.arch,
    name: cfg.name,
    "data-dir": cfg.dataDir,
    "heartbeat-interval": ms(cfg.heartbeatIntervalMs),
    "election-timeout": ms(cfg.electionTimeoutMs),
    "snapshot-count": cfg.snapshotCount,
    "initial-advertise-peer-urls": cfg.initialAdvertisePeerUrls,
    "listen-peer-urls": cfg.listenPeerUrls,
    "advertise-client-urls": cfg.advertiseClientUrls,
    "listen-client-urls": cfg.listenClientUrls,
    "initial-cluster": cfg.initialCluster,
    "initial-cluster-state": cfg.initialClusterState,
    "initial-cluster-token": cfg.initialClusterToken,
    "quota-backend-bytes": cfg.quotaBackendBytes,
    "max-request-bytes": cfg.maxRequestBytes,
    "max-txn-ops": cfg.maxTxnOps,
    "auto-compaction-mode": compactionMode,
    "auto-compaction-retention": compactionRetention,
    "auto-compaction-interval": compactionRetention,
  });
  for (const [side, info, urls] of [["client", cfg.clientTls, cfg.listenClientUrls], ["peer", cfg.peerTls, cfg.listenPeerUrls]] as const) {
    if (!info || isTlsInfoEmpty(info)) continue;
    log.info(`starting with ${side} TLS`, { "tls-info": describeTlsInfo(info), "cipher-suites": cfg.cipherSuites ?? [] });
    for (const u of urls.filter((x) => x.startsWith("http://"))) {
      log.warn("scheme is HTTP while key and cert files are present; ignoring key and cert files", { [`${side}-url`]: u });
      if (info.clientCertAuth) {
        const flag = side === "client" ? "--client-cert-auth" : "--peer-client-cert-auth";
        log.warn(`scheme is HTTP while ${flag} is enabled; ignoring client cert auth for this URL`, { [`${side}-url`]: u });
      }
    }
  }
  const node = await startNode(cfg, log);
  const ids = { "local-member-id": idToHex(node.memberId), "cluster-id": idToHex(node.clusterId) };
  log.info("starting local member", ids);
  const grpcStats = new GrpcStats(cfg.metrics === "extensive");
  const source = node.metricsSource?.();
  const registry = source ? createMetricsRegistry({ member: source, grpc: grpcStats, quotaBackendBytes: cfg.quotaBackendBytes }) : undefined;
  const health = source?.counters;
  let listeners: ClientListeners;
  let metricsListeners: MetricsListeners | undefined;
  try {
    listeners = await startClientListeners(cfg, node, log, { registry, grpcStats, health });
    if (registry && (cfg.listenMetricsUrls ?? []).length > 0) {
      try {
        metricsListeners = await startMetricsListeners(cfg.listenMetricsUrls!, node, registry, log, health, cfg.clientTls);
      } catch (e) {
        await listeners.close();
        throw e;
      }
    }
  } catch (e) {
    await node.close();
    throw e;
  }
  log.info("now serving peer/client/metrics", {
    "local-member-id": ids["local-member-id"],
    "advertise-client-urls": cfg.advertiseClientUrls,
    "listen-client-urls": cfg.listenClientUrls,
    "listen-metrics-urls": cfg.listenMetricsUrls ?? [],
  });
  log.info("ready to serve client requests");
  for (const url of listeners.urls) {
    const address = url.replace(/^https?:\/\//, "");
    if (url.startsWith("https://")) log.info("serving client traffic securely", { address });
    else log.warn(`serving insecure client requests on ${address}, this is strongly discouraged!`, { address });
  }
  let stopping: Promise<void> | undefined;
  return {
    node,
    listeners,
    metricsListeners,
    stop() {
      stopping ??= (async () => {
        await metricsListeners?.close();
        await listeners.close();
        await node.close();
        log.info("closed etcd server", { name: cfg.name, "data-dir": cfg.dataDir, "advertise-client-urls": cfg.advertiseClientUrls });
      })();
      return stopping;
    },
  };
}

/** What {@link main} touches outside itself; tests replace parts of it. */
export interface MainIo {
  /** Writes to stdout (`--help`, `--version`). */
  stdout(text: string): void;
  /** Writes to stderr (flag errors, log lines). */
  stderr(text: string): void;
  /** Resolves with the name of the first SIGINT/SIGTERM. */
  waitForSignal(): Promise<string>;
  startNode: StartNode;
}

const processIo: MainIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  waitForSignal: () =>
    new Promise((resolve) => {
      for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => resolve(sig));
    }),
  startNode: startRealNode,
};

/**
 * Runs the `etcd` command line to completion and resolves with the process exit code:
 * 0 after `--help`/`--version` or a signal-triggered shutdown, 2 for flag syntax errors,
 * 1 for invalid flags and start-up failures.
 */
export async function main(argv: readonly string[], env: Record<string, string | undefined>, io: MainIo = processIo): Promise<number> {
  const outcome = parseConfig(argv, env);
  if (outcome.kind === "exit") {
    if (outcome.stdout) io.stdout(outcome.stdout);
    if (outcome.stderr) io.stderr(outcome.stderr);
    return outcome.code;
  }
  if (outcome.kind === "invalid") {
    const log = createLogger({ write: io.stderr });
    log.warn("failed to verify flags", { error: outcome.error });
    if (outcome.error.startsWith("--advertise-client-urls is required")) {
      log.warn("advertise client URLs are not set", { error: outcome.error });
    }
    return 1;
  }
  const cfg = outcome.config;
  let outputs: LogOutputs;
  try {
    outputs = openLogOutputs(cfg.logOutputs, io);
  } catch (e) {
    createLogger({ write: io.stderr }).warn("failed to verify flags", { error: (e as Error).message });
    return 1;
  }
  const log = createLogger({ level: cfg.logLevel, write: outputs.write });
  for (const n of outcome.notices ?? []) log.info(n.msg, n.fields);
  for (const w of outcome.warnings) log.warn(w);
  const signal = io.waitForSignal();
  let etcd: RunningEtcd;
  try {
    etcd = await startEtcd(await discoverInitialCluster(cfg, log), log, io.startNode);
  } catch (e) {
    if (e instanceof DiscoveryExit) {
      outputs.close();
      return 1;
    }
    log.fatal("failed to start etcd", { error: e instanceof Error ? e.message : String(e), "data-dir": cfg.dataDir });
    outputs.close();
    return 1;
  }
  // The member serves clients: tell systemd (Type=notify), as etcd's notifySystemd does.
  try {
    sdNotify("READY=1", env.NOTIFY_SOCKET);
  } catch (e) {
    log.error("failed to notify systemd for readiness", { error: (e as Error).message });
  }
  const removed = etcd.node.removed?.then(() => "removed") ?? new Promise<string>(() => {});
  const sig = await Promise.race([signal, removed]);
  if (sig === "removed") log.warn("server has stopped: removed from the cluster");
  else log.info("received signal; shutting down", { signal: sig });
  await etcd.stop();
  outputs.close();
  return 0;
}

/**
 * What escaped every handler: a member-fatal error (server/node/fatal.ts `isMemberFatal`: a
 * MemberFatalError or a storage error) logs a fatal line and ends the process with exit code 1,
 * as etcd's `lg.Fatal`; anything else is a per-request error that should have been answered to
 * its client: a bug, logged at error level, and the server keeps serving the others.
 * `exit` is replaceable for tests.
 */
export function onUncaught(log: Logger, error: unknown, kind: string, exit?: (code: number) => void): void {
  if (isMemberFatal(error)) {
    const fields = error instanceof MemberFatalError ? error.fields : errorFields(error);
    fatal(log, error instanceof MemberFatalError ? error.message : `${kind}: member-fatal error`, fields, exit);
    return;
  }
  log.error(`${kind} (a bug: a per-request error escaped its request)`, errorFields(error));
}

/**
 * Runs the process: uncaught errors handled by onUncaught, main() on the process's arguments and
 * environment, and exit with its code. Called by server/etcd.ts (the binary) or when this file is
 * run directly.
 */
export async function runMain(): Promise<void> {
  const log = createLogger();
  process.on("uncaughtException", (e) => onUncaught(log, e, "uncaught exception"));
  process.on("unhandledRejection", (e) => onUncaught(log, e, "unhandled rejection"));
  process.exit(await main(process.argv.slice(2), process.env));
}

if (import.meta.main) await runMain();
