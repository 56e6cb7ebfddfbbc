/**
 * Peer traffic counters of etcd 3.4's rafthttp (etcdserver/api/rafthttp/metrics.go), kept as
 * plain numbers per peer ID (hex) and reported at scrape time by server/metrics/registry.ts:
 * `etcd_network_peer_sent_bytes_total{To}`, `etcd_network_peer_received_bytes_total{From}`,
 * `etcd_network_peer_sent_failures_total{To}` (the etcd-mixin's etcdMembersDown alert),
 * `etcd_network_peer_round_trip_time_seconds{To}`.
 *
 * The byte counters count what etcd's count: the size of every Raft message streamed, as
 * gogoproto's `raftpb.Message.Size()` gives it (server/raft/message-size.ts, computed without
 * encoding), snapshot data included; not HTTP/2 framing, headers or TLS records, which etcd does
 * not count either (rafthttp adds `m.Size()` per message, stream.go, pipeline.go,
 * snapshot_sender.go). etcd's stream writers also count their link heartbeats (an empty
 * MsgHeartbeat about every 1.7 s per stream); this transport keeps connections alive with HTTP/2
 * PINGs instead, which are not Raft messages and are not counted. Round trips are measured by the leader, from a heartbeat to a peer until
 * that peer's answer (through both transports and the peer's Raft loop), one sample per answered
 * heartbeat; etcd instead probes every peer from every member and records the smoothed RTT every
 * 30 s, so followers have no series here.
 */

/** Bucket upper bounds of the peer round-trip histogram, seconds: 0.1 ms doubling 16 times (`ExponentialBuckets(0.0001, 2, 16)`). */
export const PEER_RTT_BUCKETS_SECONDS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.0001 * 2 ** i);

/** Round-trip samples kept per peer between two scrapes. */
const MAX_PENDING_RTT = 10_000;

/** Per-peer byte counts and round-trip samples of one member's transport. */
export class PeerCounters {
  /** Bytes sent to each peer (hex ID). */
  readonly sentBytes = new Map<string, number>();
  /** Bytes received from each peer (hex ID). */
  readonly receivedBytes = new Map<string, number>();
  /** Messages that could not be sent to each peer (queue full, stream down, snapshot failed). */
  readonly sentFailures = new Map<string, number>();
  /** Round-trip times not yet reported, seconds, per peer. */
  readonly pendingRttSeconds = new Map<string, number[]>();

  /** `n` bytes were written to peer `to` (hex ID). */
  sent(to: string, n: number): void {
    this.sentBytes.set(to, (this.sentBytes.get(to) ?? 0) + n);
  }

  /** `n` bytes were read from peer `from` (hex ID). */
  received(from: string, n: number): void {
    this.receivedBytes.set(from, (this.receivedBytes.get(from) ?? 0) + n);
  }

  /** `n` messages to peer `to` (hex ID) were dropped. */
  sentFailed(to: string, n: number): void {
    this.sentFailures.set(to, (this.sentFailures.get(to) ?? 0) + n);
  }

  /** A round trip to peer `to` took `ms` milliseconds. */
  roundTrip(to: string, ms: number): void {
    let list = this.pendingRttSeconds.get(to);
    if (!list) this.pendingRttSeconds.set(to, (list = []));
    if (list.length < MAX_PENDING_RTT) list.push(ms / 1000);
  }
}
