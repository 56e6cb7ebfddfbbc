/**
 * The contract between the member pipeline and the peer transport (server/transport): what the
 * transport needs from its member (options, callbacks) and what it offers (PeerTransport).
 *
 * Mirrors in behaviour etcd's rafthttp.Transporter (etcdserver/api/rafthttp/transport.go): one
 * long-lived outbound stream per remote member, bounded send queues, snapshots on their own request,
 * unreachable/snapshot status reported back to Raft.
 */
import type { PeerCounters } from "../metrics/peer-counters.ts";
import type { KvHash } from "../mvcc/hash.ts";
import type { Logger } from "../log.ts";
import type { Message } from "../raft/types.ts";
import type { MemberRecord } from "../storage/members.ts";
import type { LeaseHandler } from "../lease/forward.ts";
import type { TlsInfo } from "../tls/tls-info.ts";
import type { IncomingSnapshot, OutgoingSnapshot } from "./snapshot-data.ts";
import type { FollowerStats } from "../v2stats/follower-stats.ts";

/** Options of startPeerTransport (server/transport/transport.ts). */
export interface PeerTransportOptions {
  /** This member's ID (uint64). Sent as `x-server-from`; inbound messages whose `to` differs are dropped. */
  memberId: bigint;
  /** This member's cluster ID (uint64). Sent as `x-etcd-cluster-id`; requests with another one are refused. */
  clusterId: bigint;
  /**
   * `--listen-peer-urls`: `http://host:port` or `https://host:port` each (port 0 picks a free
   * port, `localhost` binds 127.0.0.1). `https` needs `tls` with a certificate.
   */
  listenPeerUrls: string[];
  /**
   * Peer TLS (`--peer-cert-file` ...): serves `https://` listen URLs (client certificates checked
   * as etcd's peer listener does: trusted CA, CRL, allowed CN/hostname, SAN against the remote
   * address) and is used to dial `https://` peer URLs (certificate presented, server verified).
   */
  tls?: TlsInfo;
  log: Logger;
  /**
   * `/metrics` peer traffic counters (server/metrics/peer-counters.ts): Raft entry and snapshot
   * data bytes sent to and received from each peer.
   */
  counters?: PeerCounters;
  /**
   * Receives every Raft message from a peer, in the order the peer sent it (per peer), including the
   * reassembled MsgSnap. Senders need not be known peers (a member added by a conf change not applied
   * here yet); requests from another cluster or a removed member, and messages whose `from`/`to` do not
   * match the request's headers, never arrive. Must not block; an exception is logged and the message
   * counts as delivered.
   */
  onMessage(msg: Message): void;
  /** A message to peer `id` could not be sent (dropped): Raft's ReportUnreachable. */
  reportUnreachable(id: bigint): void;
  /** A MsgSnap to peer `id` was delivered (`ok`) or failed: Raft's ReportSnapshot. */
  reportSnapshot(id: bigint, ok: boolean): void;
  /** Answers lease calls forwarded by followers while this member leads (`POST /leases`, `/leases/internal`). */
  leases?: LeaseHandler;
  /**
   * Answers `POST /members/promote/<id>` (MemberPromote forwarded by a follower while this member
   * leads); gets the text after the prefix (server/membership/promote-http.ts servePromote).
   */
  promote?(idText: string): Promise<Response>;
  /** Answers `/members/hashkv` (the leader's corruption check; server/corrupt/peer-hashkv.ts). */
  hashKV?(revision: number): Promise<KvHash>;
  /** The cluster's members, served as JSON on `GET /members` of the peer port. */
  members(): MemberRecord[];
  /**
   * True for a member ID removed from the cluster (etcd's cluster.IsIDRemoved); its requests are
   * refused with "removed member". IDs given to PeerTransport.removePeer count as removed too.
   */
  isIdRemoved?(id: bigint): boolean;
  /**
   * A peer refused our stream because this member was removed from the cluster (rafthttp's
   * errMemberRemoved): the member should stop. Called at most once per peer connection attempt.
   */
  onRemovedFromCluster?(byPeer: bigint): void;
  /** Messages waiting per peer before new ones are dropped with reportUnreachable (etcd: 4096). */
  maxQueuedMessages?: number;
  /** Bytes of snapshot data per SnapshotChunk (default 1 MiB). */
  snapshotChunkBytes?: number;
  /**
   * Leader side: the state-machine image to send with MsgSnap `m` (server/transport/
   * snapshot-data.ts; the member's is a file, server/node/raft-snapshot-image.ts). A rejection
   * fails the transfer (reportSnapshot false). Absent: `m.snapshot.data` from memory.
   */
  snapshotImage?(m: Message): Promise<OutgoingSnapshot>;
  /**
   * Follower side: where the image of incoming MsgSnap `msg` (metadata only) is written; the
   * message is delivered with the `snapshot.data` its finish() returns. Absent: kept in memory.
   */
  receiveSnapshotImage?(msg: Message): IncomingSnapshot;
  /**
   * Time a stream may take from dialing to the peer's StreamAccepted before the attempt counts as failed,
   * ms (default 3000; rafthttp dials with a timeout of about a second).
   */
  dialTimeoutMs?: number;
  /** First reconnection delay after a failed stream, ms (default 100); doubles per failure. */
  minBackoffMs?: number;
  /** Largest reconnection delay, ms (default 5000). */
  maxBackoffMs?: number;
}

/** Sending-side counters of one remote peer since it was added (like rafthttp's peer metrics). */
export interface PeerStats {
  /** Stream batches written (each a MessageBatch). */
  batchesSent: number;
  /** Messages in those batches (not counting a batch lost with its stream). */
  messagesSent: number;
  /** Messages dropped: queue full, stream backing off, or lost when a stream failed. */
  messagesDropped: number;
  /** Snapshots delivered / failed. */
  snapshotsSent: number;
  snapshotsFailed: number;
}

/** A running transport. Methods never throw and never block the caller. */
export interface PeerTransport {
  /** The bound listen URLs, `http(s)://ip:port` (the real port when a listen URL said 0). */
  readonly urls: string[];
  /**
   * Starts streaming to member `id` at `peerUrls` (tried in turn when one fails). No-op for a known
   * or removed ID, or this member's own ID.
   */
  addPeer(id: bigint, peerUrls: string[]): void;
  /** Replaces the URLs of member `id`; the stream moves when its current URL is gone. */
  updatePeer(id: bigint, peerUrls: string[]): void;
  /** Stops streaming to member `id`, drops its queue and refuses its requests from now on. */
  removePeer(id: bigint): void;
  /**
   * Queues messages for their `to` peers (MsgSnap goes on its own chunked request). Messages to unknown
   * peers are dropped silently; when a peer's queue is full or its stream is down (backing off), the
   * message is dropped and reportUnreachable(to) called (and reportSnapshot(to, false) for MsgSnap).
   */
  send(msgs: Message[]): void;
  /** Epoch ms since which the stream to `id` has been accepted by the peer; undefined when not active. */
  activeSince(id: bigint): number | undefined;
  /** Counters of the sending side for peer `id` (a live object), or undefined for an unknown peer. */
  stats(id: bigint): Readonly<PeerStats> | undefined;
  /** The MsgApp counts and latency of `/v2/stats/leader` for peer `id` (a live object), or undefined for an unknown peer. */
  followerStats(id: bigint): FollowerStats | undefined;
  /** Stops streams, back-off timers, in-flight snapshots and listeners; no callback runs after it resolves. */
  close(): Promise<void>;
}
