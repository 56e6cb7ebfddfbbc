/**
 * The `/metrics` registry of a member: etcd 3.4's metric names, types, help texts, labels and
 * units (etcdserver/metrics.go, mvcc/metrics.go, wal/metrics.go, mvcc/backend/metrics.go,
 * etcdserver/api/rafthttp/metrics.go, etcdserver/api/v3rpc/metrics.go, go-grpc-prometheus),
 * so etcd's Grafana dashboard and the etcd-mixin alerts work unchanged, plus prom-client's
 * `process_*` metrics (and its `nodejs_*` ones where etcd has `go_*`).
 *
 * Nothing here runs on a request: gauges are computed and counters brought up to date in
 * prom-client `collect` callbacks at scrape time, from the member's plain-number counters
 * (MemberCounters, GrpcStats, PeerCounters). Histograms are observed where the time is taken:
 * the disk ones once per Raft Ready, `grpc_server_handling_seconds` (`--metrics extensive`
 * only) once per call, with labels made once per method.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { ETCD_SERVER_VERSION } from "../config.ts";
import { idToHex } from "../membership/ids.ts";
import { DEFAULT_QUOTA_BYTES } from "../alarm/quota.ts";
import type { GrpcMethodStats, GrpcStats } from "./grpc-stats.ts";
import { GRPC_CODE_NAMES } from "./grpc-stats.ts";
import type { MemberCounters } from "./member-counters.ts";
import { PEER_RTT_BUCKETS_SECONDS, type PeerCounters } from "./peer-counters.ts";


/** What the registry reads from a member at scrape time (EtcdNode `metricsSource()`). */
export interface MemberMetricsSource {
  readonly memberId: bigint;
  readonly counters: MemberCounters;
  hasLeader(): boolean;
  isLeader(): boolean;
  isLearner(): boolean;
  /** Raft commit index (etcd reports it as `proposals_committed_total`). */
  committedIndex(): number;
  /** Raft applied index. */
  appliedIndex(): number;
  /** Proposals waiting to be applied. */
  pendingProposals(): number;
  /** Backend file size and the part of it in use, bytes. */
  backendBytes(): { total: number; inUse: number };
  /** Live keys (etcd's keysGauge: put of a new key +1, delete −1). */
  liveKeys(): number;
  /** Watchers registered on the watch hub. */
  watchers(): number;
  /** Open watch streams. */
  watchStreams(): number;
  currentRevision(): number;
  compactRevision(): number;
  /** The v2 store's counters (server/v2store/store.ts `metrics`) and its watchers now; absent: none reported. */
  v2Store?(): { reads: Map<string, number>; writes: Map<string, number>; expires: number; watchRequests: number; watchers: number };
}

/** Options of {@link createMetricsRegistry}. */
export interface MetricsOptions {
  member: MemberMetricsSource;
  /** gRPC counters of the client listeners (server/http/rpc-handler.ts); none: the grpc_* metrics stay empty. */
  grpc?: GrpcStats;
  /** Peer traffic counters of the transport (default: the member's `counters.peers`). */
  peers?: PeerCounters;
  /** `--quota-backend-bytes` (0: etcd's 2 GiB; negative: quota disabled, reported as given). */
  quotaBackendBytes: number;
  /** Cluster version reported in `etcd_cluster_version` (etcd 3.4: "3.4"). */
  clusterVersion?: string;
}

/** Registers a counter whose value is `read()` at scrape time (reported as increments since the last scrape). */
function countFrom(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > last) this.inc(now - last);
      last = Math.max(last, now);
    },
  });
}

/** Registers a counter with one label whose values per label are `read()` at scrape time (increments since the last scrape). */
function countMapFrom(registry: Registry, name: string, help: string, label: string, read: () => Map<string, number> | undefined): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [value, now] of read() ?? []) {
        const before = last.get(value) ?? 0;
        this.inc({ [label]: value }, Math.max(0, now - before));
        last.set(value, Math.max(before, now));
      }
    },
  });
}

/** Registers a gauge set to `read()` at scrape time. */
function gaugeFrom(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * How often `nodejs_eventloop_lag_*` samples the event loop's delay, ms. prom-client's default
 * (10 ms) keeps a timer firing 100 times a second: in an idle member those wake-ups were most of
 * its CPU (13 ms/s against etcd's 7 ms/s, `strace`: ~100 `epoll_pwait2` timeouts per second),
 * and they cost CPU under load too. At 100 ms (Raft's tick) a stall of the event loop still
 * shows; the lag of the sampled ticks is what the gauges report, as before.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/** Registers a gauge that is 1 for one label value (etcd's version/ID info gauges). */
function infoGauge(registry: Registry, name: string, help: string, label: string, value: string): void {
  new Gauge({ name, help, labelNames: [label], registers: [registry] }).set({ [label]: value }, 1);
}

/**
 * Builds the registry of one member. `registry.metrics()` resolves with the Prometheus text
 * exposition (content type `registry.contentType`).
 */
export function createMetricsRegistry(opts: MetricsOptions): Registry {
  const r = new Registry();
  const m = opts.member;
  const c = m.counters;
  collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  // etcdserver/metrics.go
  gaugeFrom(r, "etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", () => (m.hasLeader() ? 1 : 0));
  gaugeFrom(r, "etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", () => (m.isLeader() ? 1 : 0));
  gaugeFrom(r, "etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", () => (m.isLearner() ? 1 : 0));
  countFrom(r, "etcd_server_leader_changes_seen_total", "The number of leader changes seen.", () => c.leaderChanges);
  countFrom(r, "etcd_server_heartbeat_send_failures_total", "The total number of leader heartbeat send failures (likely overloaded from slow disk).", () => c.heartbeatSendFailures);
  countFrom(r, "etcd_server_slow_apply_total", "The total number of slow apply requests (likely overloaded from slow disk).", () => c.slowApply);
  gaugeFrom(r, "etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", () => m.committedIndex());
  gaugeFrom(r, "etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", () => m.appliedIndex());
  gaugeFrom(r, "etcd_server_proposals_pending", "The current number of pending proposals to commit.", () => m.pendingProposals());
  countFrom(r, "etcd_server_proposals_failed_total", "The total number of failed proposals seen.", () => c.proposalsFailed);
  countFrom(r, "etcd_server_read_indexes_failed_total", "The total number of failed read indexes seen.", () => c.readIndexFailed);
  countFrom(r, "etcd_server_health_success", "The total number of successful health checks", () => c.healthSuccess);
  countFrom(r, "etcd_server_health_failures", "The total number of failed health checks", () => c.healthFailures);
  countFrom(r, "etcd_debugging_server_lease_expired_total", "The total number of expired leases.", () => c.leaseExpired);
  // etcd's NewBackendQuota sets the flag's value, the default for 0 (a negative one, disabled, stays).
  const quota = opts.quotaBackendBytes === 0 ? DEFAULT_QUOTA_BYTES : opts.quotaBackendBytes;
  new Gauge({ name: "etcd_server_quota_backend_bytes", help: "Current backend storage quota size in bytes.", registers: [r] }).set(quota);
  infoGauge(r, "etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.", "server_version", ETCD_SERVER_VERSION);
  infoGauge(r, "etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", "server_id", idToHex(m.memberId));
  infoGauge(r, "etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version", "cluster_version", opts.clusterVersion ?? "3.4");

  // mvcc/metrics.go; the size is read once per scrape for both size gauges.
  let sizes = { total: 0, inUse: 0 };
  gaugeFrom(r, "etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", () => (sizes = m.backendBytes()).total);
  gaugeFrom(r, "etcd_debugging_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", () => sizes.total);
  gaugeFrom(r, "etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.", () => sizes.inUse);
  countFrom(r, "etcd_mvcc_put_total", "Total number of puts seen by this member.", () => c.put);
  countFrom(r, "etcd_mvcc_range_total", "Total number of ranges seen by this member.", () => c.range);
  countFrom(r, "etcd_mvcc_delete_total", "Total number of deletes seen by this member.", () => c.deleteRange);
  countFrom(r, "etcd_mvcc_txn_total", "Total number of txns seen by this member.", () => c.txn);
  countFrom(r, "etcd_debugging_mvcc_put_total", "Total number of puts seen by this member.", () => c.put);
  countFrom(r, "etcd_debugging_mvcc_range_total", "Total number of ranges seen by this member.", () => c.range);
  countFrom(r, "etcd_debugging_mvcc_delete_total", "Total number of deletes seen by this member.", () => c.deleteRange);
  countFrom(r, "etcd_debugging_mvcc_txn_total", "Total number of txns seen by this member.", () => c.txn);
  gaugeFrom(r, "etcd_debugging_mvcc_keys_total", "Total number of keys.", () => m.liveKeys());
  gaugeFrom(r, "etcd_debugging_mvcc_watcher_total", "Total number of watchers.", () => m.watchers());
  gaugeFrom(r, "etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.", () => m.watchStreams());
  gaugeFrom(r, "etcd_debugging_mvcc_current_revision", "The current revision of store.", () => m.currentRevision());
  gaugeFrom(r, "etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.", () => m.compactRevision());

  // etcdserver/api/v2store/metrics.go (registered by etcd whether or not --enable-v2 is set).
  countMapFrom(r, "etcd_debugging_store_reads_total", "Total number of reads action by (get/getRecursive), local to this member.", "action", () => m.v2Store?.().reads);
  countMapFrom(r, "etcd_debugging_store_writes_total", "Total number of writes (e.g. set/compareAndDelete) seen by this member.", "action", () => m.v2Store?.().writes);
  countFrom(r, "etcd_debugging_store_expires_total", "Total number of expired keys.", () => m.v2Store?.().expires ?? 0);
  countFrom(r, "etcd_debugging_store_watch_requests_total", "Total number of incoming watch requests (new or reestablished).", () => m.v2Store?.().watchRequests ?? 0);
  gaugeFrom(r, "etcd_debugging_store_watchers", "Count of currently active watchers.", () => m.v2Store?.().watchers ?? 0);

  // etcdserver/api/v2http/metrics.go
  countMapFrom(r, "etcd_http_received_total", "Counter of requests received into the system (successfully parsed and authd).", "method", () => c.v2Http.received);
  const failedBefore = new Map<string, number>();
  new Counter({
    name: "etcd_http_failed_total",
    help: "Counter of handle failures of requests (non-watches), by method (GET/PUT etc.) and code (400, 500 etc.).",
    labelNames: ["method", "code"],
    registers: [r],
    collect() {
      for (const [key, now] of c.v2Http.failed) {
        const [method, code] = key.split(" ") as [string, string];
        const before = failedBefore.get(key) ?? 0;
        this.inc({ method, code }, Math.max(0, now - before));
        failedBefore.set(key, Math.max(before, now));
      }
    },
  });
  r.registerMetric(c.v2Http.successSeconds);

  // wal/metrics.go, mvcc/backend/metrics.go: observed by the member (MemberCounters.observeCommit).
  r.registerMetric(c.walFsyncSeconds);
  r.registerMetric(c.backendCommitSeconds);

  registerPeerMetrics(r, opts.peers ?? c.peers);
  registerGrpcMetrics(r, opts.grpc);
  return r;
}

/** rafthttp's peer metrics; series appear once a peer was talked to, as in etcd. */
function registerPeerMetrics(r: Registry, peers: PeerCounters | undefined): void {
  const byPeer = (name: string, help: string, label: string, read: (p: PeerCounters) => Map<string, number>) =>
    countMapFrom(r, name, help, label, () => (peers ? read(peers) : undefined));
  byPeer("etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", "To", (p) => p.sentBytes);
  byPeer("etcd_network_peer_received_bytes_total", "The total number of bytes received from peers.", "From", (p) => p.receivedBytes);
  byPeer("etcd_network_peer_sent_failures_total", "The total number of send failures from peers.", "To", (p) => p.sentFailures);
  new Histogram({
    name: "etcd_network_peer_round_trip_time_seconds",
    help: "Round-Trip-Time histogram between peers",
    labelNames: ["To"],
    buckets: [...PEER_RTT_BUCKETS_SECONDS],
    registers: [r],
    collect() {
      if (!peers) return;
      for (const [to, samples] of peers.pendingRttSeconds) {
        for (const s of samples) this.observe({ To: to }, s);
        samples.length = 0;
      }
    },
  });
}

/** go-grpc-prometheus's server metrics and etcd's codec byte counters. */
function registerGrpcMetrics(r: Registry, grpc: GrpcStats | undefined): void {
  countFrom(r, "etcd_network_client_grpc_sent_bytes_total", "The total number of bytes sent to grpc clients.", () => grpc?.sentBytes ?? 0);
  countFrom(r, "etcd_network_client_grpc_received_bytes_total", "The total number of bytes received from grpc clients.", () => grpc?.receivedBytes ?? 0);
  const perMethod = (name: string, help: string, read: (s: GrpcMethodStats) => number) => {
    const last = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: ["grpc_type", "grpc_service", "grpc_method"],
      registers: [r],
      collect() {
        for (const [path, s] of grpc?.methods ?? []) {
          const before = last.get(path) ?? 0;
          const now = read(s);
          this.inc({ grpc_type: s.type, grpc_service: s.service, grpc_method: s.method }, Math.max(0, now - before));
          last.set(path, Math.max(before, now));
        }
      },
    });
  };
  perMethod("grpc_server_started_total", "Total number of RPCs started on the server.", (s) => s.started);
  perMethod("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", (s) => s.msgReceived);
  perMethod("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", (s) => s.msgSent);
  const lastHandled = new Map<string, Float64Array>();
  new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    registers: [r],
    collect() {
      for (const [path, s] of grpc?.methods ?? []) {
        let before = lastHandled.get(path);
        if (!before) lastHandled.set(path, (before = new Float64Array(s.handled.length)));
        for (let code = 0; code < s.handled.length; code++) {
          const labels = { grpc_type: s.type, grpc_service: s.service, grpc_method: s.method, grpc_code: GRPC_CODE_NAMES[code]! };
          this.inc(labels, Math.max(0, s.handled[code]! - before[code]!));
          before[code] = Math.max(before[code]!, s.handled[code]!);
        }
      }
    },
  });
  if (grpc?.handlingSeconds) r.registerMetric(grpc.handlingSeconds);
}
