// RawNode Ready/Advance contract, bootstrap, restart from persisted state, and the wire format.
import { describe, expect, test } from "bun:test";
import { MemoryStorage } from "./memory-storage.ts";
import { RawNode, type Ready, SnapshotStatus } from "./node.ts";
import { Prng } from "./prng.ts";
import { RaftError } from "./errors.ts";
import { decodeConfChange } from "./wire.ts";
import { decodeMessage, encodeMessage } from "./message-codec.ts";
import { ConfChangeType, type Entry, EntryType, type Message, MessageType, type NodeId, StateType, makeMessage } from "./types.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A tiny deterministic driver: RawNodes that persist to MemoryStorage and exchange messages synchronously. */
class Harness {
  readonly nodes = new Map<NodeId, RawNode | undefined>();
  readonly storage = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, string[]>();
  readonly down = new Set<NodeId>();
  snapshotsSent = 0;

  constructor(ids: NodeId[]) {
    for (const id of ids) {
      this.storage.set(id, new MemoryStorage());
      this.applied.set(id, []);
      this.start(id);
      this.nodes.get(id)!.bootstrap(ids.map((p) => ({ id: p })));
    }
  }

  start(id: NodeId) {
    const st = this.storage.get(id)!;
    const snap = st.snapshot();
    this.nodes.set(id, new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage: st, applied: snap.metadata.index, random: new Prng(Number(id)).int }));
    this.applied.set(id, snap.metadata.index > 0 ? dec(snap.data).split(",").filter(Boolean) : []);
    this.down.delete(id);
  }

  crash(id: NodeId) {
    this.nodes.set(id, undefined);
    this.down.add(id);
  }

  node(id: NodeId): RawNode {
    return this.nodes.get(id)!;
  }

  /** Handles Readys and delivers messages until nothing is left. */
  settle() {
    for (let round = 0; round < 1000; round++) {
      const inflight: Message[] = [];
      for (const [id, rn] of this.nodes) {
        if (!rn) continue;
        while (rn.hasReady()) {
          const rd = rn.ready();
          this.handle(id, rn, rd);
          inflight.push(...rd.messages);
          rn.advance(rd);
        }
      }
      if (inflight.length === 0) return;
      for (const m of inflight) {
        const to = this.nodes.get(m.to);
        if (m.type === MessageType.MsgSnap) {
          this.snapshotsSent++;
          this.nodes.get(m.from)?.reportSnapshot(m.to, to ? SnapshotStatus.Finish : SnapshotStatus.Failure);
        }
        if (to) to.step(m);
      }
    }
    throw new Error("did not settle");
  }

  private handle(id: NodeId, rn: RawNode, rd: Ready) {
    const st = this.storage.get(id)!;
    if (rd.snapshot) st.applySnapshot(rd.snapshot);
    st.append(rd.entries);
    if (rd.hardState) st.setHardState(rd.hardState);
    const applied = this.applied.get(id)!;
    if (rd.snapshot) {
      applied.length = 0;
      applied.push(...dec(rd.snapshot.data).split(",").filter(Boolean));
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.EntryConfChange) rn.applyConfChange(decodeConfChange(e.data));
      else if (e.data.length > 0) applied.push(dec(e.data));
    }
  }

  tickAll(n: number) {
    for (let i = 0; i < n; i++) {
      for (const rn of this.nodes.values()) rn?.tick();
      this.settle();
    }
  }

  leader(): RawNode | undefined {
    return [...this.nodes.values()].find((rn) => rn?.raft.state === StateType.Leader);
  }
}

describe("RawNode Ready/Advance", () => {
  test("single node: bootstrap, campaign, propose, apply", () => {
    const st = new MemoryStorage();
    const rn = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage: st });
    rn.bootstrap([{ id: 1n }]);
    let rd = rn.ready();
    // The bootstrap conf change is persisted and applied through the first Ready.
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([[1, 1, EntryType.EntryConfChange]]);
    expect(rd.committedEntries.length).toBe(1);
    expect(rd.hardState).toEqual({ term: 1, vote: 0n, commit: 1 });
    expect(rd.mustSync).toBe(true);
    st.append(rd.entries);
    st.setHardState(rd.hardState!);
    rn.applyConfChange(decodeConfChange(rd.committedEntries[0]!.data));
    rn.advance(rd);
    expect(rn.hasReady()).toBe(false);

    rn.campaign();
    rd = rn.ready();
    expect(rd.softState).toEqual({ lead: 1n, raftState: StateType.Leader });
    expect(rd.hardState).toEqual({ term: 2, vote: 1n, commit: 2 });
    st.append(rd.entries);
    rn.advance(rd);

    rn.propose(enc("hello"));
    rd = rn.ready();
    expect(rd.entries.map((e) => dec(e.data))).toEqual(["hello"]);
    expect(rd.committedEntries.map((e) => dec(e.data))).toEqual(["hello"]);
    expect(rd.softState).toBeUndefined();
    st.append(rd.entries);
    rn.advance(rd);
    expect(rn.status().applied).toBe(3);
    expect(rn.hasReady()).toBe(false);

    // A sole voter answers reads at once.
    rn.readIndex(enc("q"));
    rd = rn.ready();
    expect(rd.readStates).toEqual([{ index: 3, requestCtx: enc("q") }]);
    rn.advance(rd);
  });

  test("proposals without a leader fail with ErrProposalDropped", () => {
    const h = new Harness([1n, 2n, 3n]);
    h.settle();
    let err: unknown;
    try {
      h.node(1n).propose(enc("x"));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RaftError);
    expect((err as RaftError).code).toBe("ErrProposalDropped");
  });

  test("stepping a local message type is refused; responses from strangers are dropped", () => {
    const h = new Harness([1n]);
    expect(() => h.node(1n).step(makeMessage({ type: MessageType.MsgHup }))).toThrow("cannot step raft local message");
    expect(h.node(1n).step(makeMessage({ type: MessageType.MsgAppResp, from: 9n, to: 1n, term: 1 }))).toBe(false);
  });

  test("a 3-node cluster elects, replicates, transfers leadership and changes membership", () => {
    const h = new Harness([1n, 2n, 3n]);
    h.settle();
    h.tickAll(25);
    const leader = h.leader()!;
    expect(leader).toBeDefined();
    leader.propose(enc("a"));
    h.settle();
    for (const id of [1n, 2n, 3n]) expect(h.applied.get(id)).toEqual(["a"]);

    const target = [1n, 2n, 3n].find((id) => id !== leader.raft.id)!;
    leader.transferLeader(target);
    h.settle();
    expect(h.node(target).raft.state).toBe(StateType.Leader);

    // Add 4 as learner, then promote it.
    h.storage.set(4n, new MemoryStorage());
    h.applied.set(4n, []);
    h.start(4n);
    h.node(target).proposeConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n, context: enc(""), id: 1n });
    h.settle();
    h.tickAll(2);
    expect(h.node(4n).raft.isLearner).toBe(true);
    expect(h.applied.get(4n)).toEqual(["a"]);
    h.node(target).proposeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 4n, context: enc(""), id: 2n });
    h.settle();
    expect(h.node(4n).raft.isLearner).toBe(false);
    expect(h.node(target).status().confState).toEqual({ voters: [1n, 2n, 3n, 4n], learners: [] });
  });

  test("a crashed follower restarts from hard state + log + snapshot and catches up", () => {
    const h = new Harness([1n, 2n, 3n]);
    h.settle();
    h.tickAll(25);
    const leader = h.leader()!;
    const lid = leader.raft.id;
    const follower = [1n, 2n, 3n].find((id) => id !== lid)!;
    for (let i = 0; i < 5; i++) leader.propose(enc(`v${i}`));
    h.settle();
    const before = h.node(follower).status().hardState;
    h.crash(follower);
    for (let i = 5; i < 30; i++) leader.propose(enc(`v${i}`));
    h.settle();
    // The leader snapshots and compacts: the follower's next entries are gone.
    const ls = h.storage.get(lid)!;
    const applied = leader.status().applied;
    ls.createSnapshot(applied, leader.status().confState, enc(h.applied.get(lid)!.join(",")));
    ls.compact(applied);

    h.start(follower);
    const restarted = h.node(follower);
    expect(restarted.status().hardState).toEqual(before);
    expect(restarted.raft.raftLog.lastIndex()).toBe(h.storage.get(follower)!.lastIndex());
    h.tickAll(3);
    expect(h.snapshotsSent).toBeGreaterThan(0);
    expect(h.applied.get(follower)).toEqual(h.applied.get(lid)!);
    expect(h.applied.get(follower)!.length).toBe(30);
    leader.propose(enc("after"));
    h.settle();
    expect(h.applied.get(follower)!.at(-1)).toBe("after");
  });
});

describe("wire format", () => {
  test("messages round-trip through raftpb protobuf", () => {
    const e: Entry = { term: 3, index: 9, type: EntryType.EntryNormal, data: enc("x") };
    const m = makeMessage({
      type: MessageType.MsgApp,
      to: 0xfedcba9876543210n,
      from: 2n,
      term: 3,
      logTerm: 2,
      index: 8,
      entries: [e],
      commit: 7,
      reject: true,
      rejectHint: 5,
      context: enc("ctx"),
      snapshot: { data: enc("s"), metadata: { index: 4, term: 1, confState: { voters: [1n, 2n], learners: [3n] } } },
    });
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
    const hb = makeMessage({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1 });
    expect(decodeMessage(encodeMessage(hb))).toEqual(hb);
  });
});
