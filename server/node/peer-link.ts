/**
 * How a member reaches its peers, given to EtcdNode at construction (NodeConfig `peers`): where
 * Raft messages go, what a committed membership change tells the transport, and what `close()`
 * stops first.
 *
 * The real peer transport (server/transport) answers peers with the running node's state (its
 * IDs, membership, leases, snapshot images), so server/node/member.ts starts it after the node
 * and attaches it to the {@link PeerLink} the node was built with, once. Until then messages are
 * dropped, which Raft takes as loss (etcd's rafthttp likewise drops messages to peers it has not
 * added yet). The simulation (server/sim/cluster.ts) passes its network's sink directly.
 */
import type { Message } from "../raft/types.ts";
import type { FollowerStats } from "../v2stats/follower-stats.ts";

/** Where the node sends Raft messages (the peer transport); absent for a lone member in tests. */
export interface RaftMessageSink {
  send(messages: Message[]): void;
  /** Epoch ms since which the stream to peer `id` is up; undefined while it is down. */
  activeSince?(id: bigint): number | undefined;
  /** The MsgApp counts and latency sent to peer `id` (`/v2/stats/leader`); undefined for an unknown peer. */
  followerStats?(id: bigint): FollowerStats | undefined;
}

/** A member's peers as the node sees them. */
export interface NodePeers extends RaftMessageSink {
  /** After a committed membership change or snapshot: the transport follows the applied membership. */
  membersChanged?(): void;
  /** Stops what talks to the peers; EtcdNode.close() awaits it before closing the member. */
  close?(): Promise<void>;
}

/** What member.ts attaches: the started transport and its helpers. */
export interface AttachedPeers {
  sink: RaftMessageSink;
  membersChanged(): void;
  close(): Promise<void>;
}

/** A {@link NodePeers} whose transport is attached once, after the node started. */
export class PeerLink implements NodePeers {
  private peers: AttachedPeers | undefined;
  private closed = false;

  /** Attaches the started transport; throws Error `peers already attached` on a second call. */
  attach(peers: AttachedPeers): void {
    if (this.peers) throw new Error("peers already attached");
    this.peers = peers;
    // A link closed before the transport came up stops it at once.
    if (this.closed) void this.close();
  }

  send(messages: Message[]): void {
    this.peers?.sink.send(messages);
  }

  activeSince(id: bigint): number | undefined {
    return this.peers?.sink.activeSince?.(id);
  }

  followerStats(id: bigint): FollowerStats | undefined {
    return this.peers?.sink.followerStats?.(id);
  }

  membersChanged(): void {
    this.peers?.membersChanged();
  }

  async close(): Promise<void> {
    this.closed = true;
    const peers = this.peers;
    this.peers = undefined;
    await peers?.close();
  }
}
