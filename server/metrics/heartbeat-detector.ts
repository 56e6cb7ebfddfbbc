/**
 * etcd's check that a leader sends heartbeats on time (pkg/contention TimeoutDetector, used in
 * etcdserver/raft.go processMessages): two heartbeats to the same peer more than two heartbeat
 * intervals apart mean the leader's loop was stalled (slow disk, overload). Each such gap is
 * counted in `etcd_server_heartbeat_send_failures_total` and logged as etcd logs it. The records
 * are reset whenever leadership changes.
 */
import { goDurationString } from "../../cli/go/duration.ts";

/** Per-peer time of the last heartbeat; see the module doc. */
export class HeartbeatTimeoutDetector {
  private readonly lastMs = new Map<bigint, number>();

  /** `heartbeatMs`: `--heartbeat-interval`; `now`: monotonic ms. */
  constructor(
    private readonly heartbeatMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Records a heartbeat sent to `to`; returns by how many ms the gap since the previous one
   * exceeded two heartbeat intervals (0: on time, or the first heartbeat).
   */
  observe(to: bigint): number {
    const now = this.now();
    const prev = this.lastMs.get(to);
    this.lastMs.set(to, now);
    if (prev === undefined) return 0;
    return Math.max(0, now - prev - 2 * this.heartbeatMs);
  }

  /** Forgets every record (leadership changed). */
  reset(): void {
    this.lastMs.clear();
  }

  /** etcd's warning fields for a late heartbeat to `to` that exceeded the limit by `exceedMs`. */
  warningFields(to: bigint, exceedMs: number): Record<string, unknown> {
    return {
      to: to.toString(16),
      "heartbeat-interval": goDurationString(BigInt(Math.round(this.heartbeatMs * 1e6))),
      "expected-duration": goDurationString(BigInt(Math.round(2 * this.heartbeatMs * 1e6))),
      "exceeded-duration": goDurationString(BigInt(Math.round(exceedMs * 1e6))),
    };
  }
}

/** etcd's warning for a late heartbeat. */
export const LATE_HEARTBEAT_WARNING = "leader failed to send out heartbeat on time; took too long, leader is overloaded likely from slow disk";
