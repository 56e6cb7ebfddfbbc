/**
 * Test helpers in the style of etcd's raft_test.go: Raft state machines wired by a synchronous in-memory
 * network that delivers messages until quiescence, with per-link drops, cuts, isolation and ignored
 * message types. For scenario tests only (the randomized simulation is cluster.ts).
 */
import { MemoryStorage } from "../memory-storage.ts";
import { Raft, type RaftConfig } from "../raft.ts";
import { Prng } from "../prng.ts";
import { isRaftError } from "../errors.ts";
import { type Entry, type Message, MessageType, type NodeId, makeMessage } from "../types.ts";

/** Options for newTestRaft beyond etcd's defaults in tests. */
export type TestRaftOptions = Partial<Omit<RaftConfig, "id" | "storage">>;

/**
 * A Raft with a MemoryStorage holding `peers` as its membership (unless the storage already has one),
 * electionTick 10 and heartbeatTick 1 by default, unlimited message size, 256 inflight.
 */
export function newTestRaft(id: NodeId, peers: NodeId[], opts: TestRaftOptions = {}, storage?: MemoryStorage): Raft {
  const s = storage ?? new MemoryStorage({ voters: peers, learners: opts.learners ?? [] });
  return new Raft({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage: s,
    maxSizePerMsg: Infinity,
    maxInflightMsgs: 256,
    random: new Prng(Number(id)).int,
    ...opts,
    peers: undefined,
    learners: undefined,
  });
}

/** Persists the unstable log of r into its MemoryStorage, applies committed entries, returns them. */
export function nextEnts(r: Raft, s: MemoryStorage): Entry[] {
  s.append(r.raftLog.unstableEntries());
  const u = r.raftLog.unstable.entries;
  if (u.length > 0) r.raftLog.stableTo(u[u.length - 1]!.index, u[u.length - 1]!.term);
  const ents = r.raftLog.nextEnts();
  r.raftLog.appliedTo(r.raftLog.committed);
  return ents;
}

/** Steps m into r, swallowing ErrProposalDropped like a transport would. */
export function stepOrDrop(r: Raft, m: Message): void {
  try {
    r.step(m);
  } catch (e) {
    if (!isRaftError(e, "ErrProposalDropped")) throw e;
  }
}

/** Drains r's outgoing messages. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/** A synchronous network of Raft peers; `undefined` peers are black holes. */
export class TestNetwork {
  readonly peers = new Map<NodeId, Raft | undefined>();
  readonly storage = new Map<NodeId, MemoryStorage>();
  private readonly dropm = new Map<string, number>();
  private readonly ignorem = new Set<MessageType>();
  /** Optional hook to inspect/filter each message before delivery (return false to drop). */
  msgHook: ((m: Message) => boolean) | undefined;
  private readonly rand = new Prng(1);

  /**
   * Creates a network of ids 1..n (or the given rafts). A `null` entry makes a fresh test raft with every
   * peer as voter; `undefined` makes a black hole.
   */
  constructor(peers: (Raft | null | undefined)[], opts: TestRaftOptions = {}) {
    const ids = peers.map((_, i) => BigInt(i + 1));
    peers.forEach((p, i) => {
      const id = ids[i]!;
      if (p === null) {
        const st = new MemoryStorage({ voters: ids, learners: [] });
        this.storage.set(id, st);
        this.peers.set(id, newTestRaft(id, ids, opts, st));
      } else {
        this.peers.set(id, p);
        if (p) this.storage.set(id, p.raftLog.storage as MemoryStorage);
      }
    });
  }

  raft(id: NodeId | number): Raft {
    const r = this.peers.get(BigInt(id));
    if (!r) throw new Error(`no raft ${id}`);
    return r;
  }

  /** Delivers msgs and everything they cause until no message is left. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    while (queue.length > 0) {
      const m = queue.shift()!;
      const p = this.peers.get(m.to);
      if (!p) continue;
      stepOrDrop(p, m);
      queue.push(...this.filter(readMessages(p)));
    }
  }

  /** Steps a local message type (MsgHup, MsgBeat, MsgProp...) into node `id` and delivers the results. */
  stepLocal(id: number, m: Partial<Message> & { type: MessageType }): void {
    this.send(makeMessage({ ...m, from: m.from ?? BigInt(id), to: BigInt(id) }));
  }

  /** Proposes `data` at node id. */
  propose(id: number, data: string): void {
    this.stepLocal(id, { type: MessageType.MsgProp, entries: [{ term: 0, index: 0, type: 0, data: new TextEncoder().encode(data) }] });
  }

  private filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignorem.has(m.type)) return false;
      if (m.type === MessageType.MsgHup) throw new Error("unexpected MsgHup on the network");
      const perc = this.dropm.get(`${m.from}-${m.to}`) ?? 0;
      if (perc > 0 && this.rand.next() < perc) return false;
      if (this.msgHook && !this.msgHook(m)) return false;
      return true;
    });
  }

  /** Drops a fraction `perc` (0..1) of messages from -> to. */
  drop(from: number, to: number, perc: number): void {
    this.dropm.set(`${from}-${to}`, perc);
  }

  /** Cuts both directions between a and b. */
  cut(a: number, b: number): void {
    this.drop(a, b, 2);
    this.drop(b, a, 2);
  }

  /** Cuts id off from every other peer. */
  isolate(id: number): void {
    for (const other of this.peers.keys()) {
      if (other !== BigInt(id)) this.cut(id, Number(other));
    }
  }

  /** Drops every message of type t. */
  ignore(t: MessageType): void {
    this.ignorem.add(t);
  }

  /** Heals all drops, cuts and ignores. */
  recover(): void {
    this.dropm.clear();
    this.ignorem.clear();
  }
}
