/**
 * ReadOnly: pending linearizable read requests at the leader (ReadIndex, Raft thesis 6.4).
 * Each request records the commit index at arrival; it is answered once a quorum of voters acknowledged a
 * heartbeat round that started after it arrived. Acknowledging a later request's round also answers every
 * earlier request (queue order), so many requests share one heartbeat round.
 *
 * Mirrors go.etcd.io/etcd/raft/read_only.go in behaviour.
 */
import type { Message, NodeId } from "./types.ts";

/** How read-only requests are confirmed. */
export enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat quorum round (default, safe). */
  Safe = 0,
  /** Trust the leader lease (needs CheckQuorum; unsafe under unbounded clock drift). */
  LeaseBased = 1,
}

/** A pending request: the original message, its read index and the voters that acknowledged it. */
export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<NodeId>;
}

/** Key of a request context in the pending map. */
export function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export class ReadOnly {
  readonly option: ReadOnlyOption;
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(option: ReadOnlyOption) {
    this.option = option;
  }

  /** Number of requests waiting for a quorum. */
  get pendingCount(): number {
    return this.queue.length;
  }

  /**
   * Queues a request (context = m.entries[0].data) with read index `index`. A context already pending is
   * ignored (returns false).
   */
  addRequest(index: number, m: Message): boolean {
    const k = contextKey(m.entries[0]!.data);
    if (this.pending.has(k)) return false;
    this.pending.set(k, { req: m, index, acks: new Set() });
    this.queue.push(k);
    return true;
  }

  /** Records that `id` acknowledged the round of `ctx`; returns the acks so far (undefined if unknown). */
  recvAck(id: NodeId, ctx: Uint8Array): Set<NodeId> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** The round of `ctx` reached a quorum: dequeues and returns it and every request queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const k = contextKey(ctx);
    const i = this.queue.indexOf(k);
    if (i < 0) return [];
    const done = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: ReadIndexStatus[] = [];
    for (const key of done) {
      out.push(this.pending.get(key)!);
      this.pending.delete(key);
    }
    return out;
  }

  /** Context of the newest pending request (piggybacked on heartbeats), if any. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1]!)!.req.entries[0]!.data;
  }
}
