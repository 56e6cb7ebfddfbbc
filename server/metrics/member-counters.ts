/**
 * Counters a member bumps on its hot paths, as plain numbers: a put costs one `++`, no label
 * object and no hashing. The Prometheus registry (server/metrics/registry.ts) reads them at
 * scrape time and reports what changed since the last scrape. Names follow etcd 3.4's metrics
 * (etcdserver/metrics.go, mvcc/metrics.go, wal/metrics.go, mvcc/backend/metrics.go).
 */
import { Histogram } from "prom-client";
import { PeerCounters } from "./peer-counters.ts";
import { V2HttpCounters } from "./v2-http-counters.ts";

/**
 * Bucket upper bounds of etcd's disk latency histograms, seconds: 1 ms doubling 14 times up to
 * 8.192 s (`prometheus.ExponentialBuckets(0.001, 2, 14)`, wal/metrics.go, mvcc/backend/metrics.go).
 */
export const DISK_BUCKETS_SECONDS: readonly number[] = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

/** The per-member counters and disk histograms. One instance per member (EtcdNode owns it). */
export class MemberCounters {
  /** `etcd_mvcc_put_total`: puts applied by MVCC (also inside txns). */
  put = 0;
  /** `etcd_mvcc_range_total`: ranges served by MVCC (also inside txns). */
  range = 0;
  /** `etcd_mvcc_delete_total`: delete ranges applied by MVCC (also inside txns). */
  deleteRange = 0;
  /** `etcd_mvcc_txn_total`: MVCC transactions with more than one operation (mvcc/metrics_txn.go). */
  txn = 0;
  /** `etcd_server_proposals_failed_total`: proposals that timed out, were cancelled or stopped. */
  proposalsFailed = 0;
  /** `etcd_server_slow_apply_total`: requests slower than `--experimental-warning-apply-duration` (server/metrics/slow-apply.ts). */
  slowApply = 0;
  /** `etcd_server_heartbeat_send_failures_total`: leader heartbeats that could not be sent on time. */
  heartbeatSendFailures = 0;
  /** `etcd_server_leader_changes_seen_total`: times a new leader became known. */
  leaderChanges = 0;
  /** `etcd_server_read_indexes_failed_total`: ReadIndex requests that failed. */
  readIndexFailed = 0;
  /** `etcd_debugging_server_lease_expired_total`: leases revoked because they expired. */
  leaseExpired = 0;
  /** `etcd_server_health_success`: `/health` checks that passed. */
  healthSuccess = 0;
  /** `etcd_server_health_failures`: `/health` checks that failed. */
  healthFailures = 0;
  /** Peer traffic of this member's transport (`etcd_network_peer_*`). */
  readonly peers = new PeerCounters();
  /** The v2 keys API's `etcd_http_*` metrics (server/http/v2/keys.ts). */
  readonly v2Http = new V2HttpCounters();
  /**
   * `etcd_disk_wal_fsync_duration_seconds`: the Raft log and the backend are one SQLite database
   * here, so a WAL fsync is the commit of the Ready transaction (synchronous=FULL); observed
   * once per Ready that must sync (new entries, term or vote: etcd's MustSync), seconds.
   */
  readonly walFsyncSeconds = new Histogram({
    name: "etcd_disk_wal_fsync_duration_seconds",
    help: "The latency distributions of fsync called by WAL.",
    buckets: [...DISK_BUCKETS_SECONDS],
    registers: [],
  });
  /** `etcd_disk_backend_commit_duration_seconds`: the same commit seen as the backend's, seconds. */
  readonly backendCommitSeconds = new Histogram({
    name: "etcd_disk_backend_commit_duration_seconds",
    help: "The latency distributions of commit called by backend.",
    buckets: [...DISK_BUCKETS_SECONDS],
    registers: [],
  });

  /** Records one Ready transaction that took `ms` milliseconds to commit (and fsync when `synced`). */
  observeCommit(ms: number, synced: boolean): void {
    const s = ms / 1000;
    if (synced) this.walFsyncSeconds.observe(s);
    this.backendCommitSeconds.observe(s);
  }
}

/** The parts of a TxnResponse the MVCC counters look at (etcdserverpb ResponseOp shapes). */
interface CountableTxnResponse {
  responses: readonly { response: { case: string | undefined; value?: unknown } }[];
}

/**
 * Counts the operations a txn executed (its response ops, nested txns included) as etcd's
 * metricsTxnWrite does: each range, put and delete, and `txn` once when the MVCC transaction
 * had more than one operation (mvcc/metrics_txn.go).
 */
export function countTxn(c: MemberCounters, res: CountableTxnResponse): void {
  if (countOps(c, res) > 1) c.txn++;
}

function countOps(c: MemberCounters, res: CountableTxnResponse): number {
  let n = 0;
  for (const op of res.responses) {
    switch (op.response.case) {
      case "responseRange":
        c.range++;
        n++;
        break;
      case "responsePut":
        c.put++;
        n++;
        break;
      case "responseDeleteRange":
        c.deleteRange++;
        n++;
        break;
      case "responseTxn":
        n += countOps(c, op.response.value as CountableTxnResponse);
        break;
    }
  }
  return n;
}
