/**
 * The member-to-member transport on `--listen-peer-urls` (etcd's rafthttp, etcdserver/api/rafthttp/
 * transport.go, in behaviour): peer listeners serving etcdts.v1.Peer plus `GET /members` and
 * `GET /version`, and one RemotePeer (stream + snapshot sender) per remote member.
 *
 * Wire: proto/etcdts/peer.proto (Connect protocol, binary protobuf, HTTP/2, the Raft stream written
 * and read by hand: ./stream-wire.ts; cleartext on `http://`
 * peer URLs, TLS with the peer certificates on `https://` ones). Each request
 * carries the sender's cluster and member IDs; see server/transport/headers.ts for the refusals.
 */
import { MessageType, type Message } from "../raft/types.ts";
import { Peer } from "../../proto/gen/etcdts/peer_pb.ts";
import { hexId } from "./headers.ts";
import { createPeerHttpApp } from "./http-app.ts";
import { PEER_READ_MAX_BYTES, startPeerListeners } from "./listen.ts";
import { peerClientTls } from "./peer-tls.ts";
import { peerService, type ReceiverContext } from "./receive.ts";
import { isRaftStreamCall, serveRaftStream } from "./stream-serve.ts";
import { RemotePeer, type SenderContext } from "./remote-peer.ts";
import { inMemoryIncoming, inMemoryOutgoing } from "./snapshot-data.ts";
import type { PeerTransport, PeerTransportOptions } from "./types.ts";

export type { PeerTransport, PeerTransportOptions } from "./types.ts";

/** A heartbeat unanswered this long is taken as lost for round-trip timing, ms. */
const HEARTBEAT_ANSWER_LOST_MS = 5_000;

/** Default per-peer queue bound, messages (rafthttp's streamBufSize / maxPendingProposals 4096). */
export const DEFAULT_MAX_QUEUED_MESSAGES = 4096;
/** Default snapshot chunk size, bytes (1 MiB). */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Default limit from dialing a peer to its StreamAccepted, ms. */
export const DEFAULT_DIAL_TIMEOUT_MS = 3_000;
/** Default first reconnection delay, ms. */
export const DEFAULT_MIN_BACKOFF_MS = 100;
/** Default reconnection delay cap, ms. */
export const DEFAULT_MAX_BACKOFF_MS = 5_000;

/**
 * Binds the peer listeners and returns the transport (no peers yet: addPeer each remote member).
 * Rejects with `listen tcp <host:port>: <code>` when a listen URL cannot be bound, with
 * `cannot listen on TLS for <host:port>: KeyFile and CertFile are not presented` for an `https://`
 * URL without peer certificate, or with the TLS file errors of server/tls/server-options.ts.
 */
export async function startPeerTransport(opts: PeerTransportOptions): Promise<PeerTransport> {
  const log = opts.log;
  const peers = new Map<bigint, RemotePeer>();
  const removed = new Set<bigint>();
  let closed = false;
  const isRemoved = (id: bigint) => removed.has(id) || (opts.isIdRemoved?.(id) ?? false);
  // Round trips for `etcd_network_peer_round_trip_time_seconds`: a leader's heartbeat to a peer
  // until that peer's answer (performance.now() ms of the last heartbeat sent, per peer).
  const heartbeatSentAt = new Map<bigint, number>();

  const sender: SenderContext = {
    memberId: opts.memberId,
    clusterId: opts.clusterId,
    log,
    reportUnreachable: (id) => opts.reportUnreachable(id),
    reportSnapshot: (id, ok) => opts.reportSnapshot(id, ok),
    onRemovedFromCluster: opts.onRemovedFromCluster?.bind(opts),
    maxQueuedMessages: opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES,
    snapshotChunkBytes: opts.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES,
    snapshotImage: async (m) => (opts.snapshotImage ? opts.snapshotImage(m) : inMemoryOutgoing(m.snapshot!.data)),
    dialTimeoutMs: opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
    minBackoffMs: opts.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS,
    maxBackoffMs: opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
    tls: peerClientTls(opts.tls),
    counters: opts.counters,
  };

  const receiver: ReceiverContext = {
    memberId: opts.memberId,
    clusterId: opts.clusterId,
    log,
    isRemoved,
    deliver: (msg) => {
      if (closed) return;
      if (msg.type === MessageType.MsgHeartbeatResp && opts.counters) {
        const sentAt = heartbeatSentAt.get(msg.from);
        if (sentAt !== undefined) {
          heartbeatSentAt.delete(msg.from);
          opts.counters.roundTrip(hexId(msg.from), performance.now() - sentAt);
        }
      }
      try {
        opts.onMessage(msg);
      } catch (e) {
        log.error("failed to process Raft message", { "remote-peer-id": hexId(msg.from), error: e });
      }
    },
    peerConnected: (id) => peers.get(id)?.peerConnected(),
    counters: opts.counters,
    receiveSnapshotImage: (msg) => (opts.receiveSnapshotImage ? opts.receiveSnapshotImage(msg) : inMemoryIncoming()),
  };
  const listeners = await startPeerListeners(
    opts.listenPeerUrls,
    (router) => router.service(Peer, peerService(receiver)),
    createPeerHttpApp(opts.clusterId, () => opts.members(), opts.leases, opts.promote, opts.hashKV),
    { matches: isRaftStreamCall, serve: (req, res) => serveRaftStream(req, res, receiver, PEER_READ_MAX_BYTES) },
    log,
    opts.tls,
  );

  return {
    urls: listeners.urls,

    addPeer(id, peerUrls) {
      if (closed || peers.has(id) || id === opts.memberId) return;
      if (isRemoved(id)) {
        log.warn("ignored adding a removed member as peer", { "remote-peer-id": hexId(id) });
        return;
      }
      peers.set(id, new RemotePeer(id, peerUrls, sender));
      log.info("added remote peer", { "local-member-id": hexId(opts.memberId), "remote-peer-id": hexId(id), "remote-peer-urls": peerUrls });
    },

    updatePeer(id, peerUrls) {
      peers.get(id)?.update(peerUrls);
    },

    removePeer(id) {
      removed.add(id);
      heartbeatSentAt.delete(id);
      const peer = peers.get(id);
      if (!peer) return;
      peers.delete(id);
      void peer.stop();
      log.info("removed remote peer", { "local-member-id": hexId(opts.memberId), "removed-remote-peer-id": hexId(id) });
    },

    send(msgs) {
      if (closed) return;
      let unreachable: Set<bigint> | undefined;
      for (const m of msgs) {
        const peer = peers.get(m.to);
        if (!peer) continue;
        if (m.type === MessageType.MsgHeartbeat && opts.counters) {
          // Heartbeats carry no ID: time the oldest unanswered one, unless its answer was lost.
          const now = performance.now();
          const pending = heartbeatSentAt.get(m.to);
          if (pending === undefined || now - pending > HEARTBEAT_ANSWER_LOST_MS) heartbeatSentAt.set(m.to, now);
        }
        if (m.type === MessageType.MsgSnap) {
          peer.sendSnapshot(m);
        } else if (!peer.enqueue(m)) {
          (unreachable ??= new Set()).add(m.to);
        }
      }
      for (const id of unreachable ?? []) opts.reportUnreachable(id);
    },

    activeSince(id) {
      return peers.get(id)?.activeSince();
    },

    stats(id) {
      return peers.get(id)?.stats;
    },

    followerStats(id) {
      return peers.get(id)?.followerStats;
    },

    async close() {
      if (closed) return;
      closed = true;
      const stopping = [...peers.values()].map((p) => p.stop());
      peers.clear();
      await Promise.all([...stopping, listeners.close()]);
    },
  };
}
