// Scenario tests of the Raft state machine, in the style of etcd's raft_test.go / raft_paper_test.go.
import { describe, expect, test } from "bun:test";
import { MemoryStorage } from "./memory-storage.ts";
import { ProgressState } from "./progress.ts";
import { type Raft } from "./raft.ts";
import { TestNetwork, newTestRaft, nextEnts, readMessages, stepOrDrop } from "./sim/network.ts";
import { ConfChangeType, type Entry, EntryType, MessageType, StateType, makeMessage, None } from "./types.ts";
import { RaftError } from "./errors.ts";
import { ReadOnlyOption } from "./read-only.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const ent = (term: number, index: number, data = ""): Entry => ({ term, index, type: EntryType.EntryNormal, data: enc(data) });

function hup(nt: TestNetwork, id: number) {
  nt.stepLocal(id, { type: MessageType.MsgHup });
}

function tickN(r: Raft, n: number) {
  for (let i = 0; i < n; i++) r.tick();
}

/** Ticks r past its (randomized) election timeout. */
function tickElection(r: Raft) {
  tickN(r, 2 * r.electionTimeout);
}

describe("leader election (paper 5.2)", () => {
  const cases: [string, (null | undefined)[], StateType, number][] = [
    ["all up", [null, null, null], StateType.Leader, 1],
    ["one down", [null, null, undefined], StateType.Leader, 1],
    ["two of three down", [null, undefined, undefined], StateType.Candidate, 1],
    ["two of four down", [null, undefined, undefined, null], StateType.Candidate, 1],
    ["two of five down", [null, undefined, undefined, null, null], StateType.Leader, 1],
  ];
  for (const [name, peers, state, term] of cases) {
    test(name, () => {
      const nt = new TestNetwork(peers);
      hup(nt, 1);
      expect(nt.raft(1).state).toBe(state);
      expect(nt.raft(1).term).toBe(term);
    });
  }

  test("with PreVote a lost election does not bump the term", () => {
    const nt = new TestNetwork([null, undefined, undefined], { preVote: true });
    hup(nt, 1);
    expect(nt.raft(1).state).toBe(StateType.PreCandidate);
    expect(nt.raft(1).term).toBe(0);
    const nt2 = new TestNetwork([null, null, undefined], { preVote: true });
    hup(nt2, 1);
    expect(nt2.raft(1).state).toBe(StateType.Leader);
    expect(nt2.raft(1).term).toBe(1);
  });

  test("a follower times out into an election with a randomized timeout", () => {
    const r = newTestRaft(1n, [1n, 2n, 3n]);
    const timeouts = new Set<number>();
    for (let i = 0; i < 50; i++) {
      r.becomeFollower(r.term + 1, None);
      expect(r.randomizedElectionTimeout).toBeGreaterThanOrEqual(10);
      expect(r.randomizedElectionTimeout).toBeLessThan(20);
      timeouts.add(r.randomizedElectionTimeout);
    }
    expect(timeouts.size).toBeGreaterThan(3);
    r.becomeFollower(5, None);
    tickN(r, r.randomizedElectionTimeout - 1);
    expect(r.state).toBe(StateType.Follower);
    r.tick();
    expect(r.state).toBe(StateType.Candidate);
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgVote).length).toBe(2);
  });

  test("a voter votes once per term and only for up-to-date candidates (paper 5.4.1)", () => {
    const s = new MemoryStorage({ voters: [1n, 2n, 3n], learners: [] });
    s.append([ent(1, 1), ent(2, 2)]);
    const r = newTestRaft(1n, [1n, 2n, 3n], {}, s);
    // stale log term: rejected
    r.step(makeMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3, logTerm: 1, index: 5 }));
    expect(readMessages(r)[0]!.reject).toBe(true);
    // same last term, shorter log: rejected
    r.step(makeMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3, logTerm: 2, index: 1 }));
    expect(readMessages(r)[0]!.reject).toBe(true);
    // up to date: granted
    r.step(makeMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3, logTerm: 2, index: 2 }));
    expect(readMessages(r)[0]!.reject).toBe(false);
    expect(r.vote).toBe(2n);
    // another candidate, same term: rejected
    r.step(makeMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 3, logTerm: 5, index: 9 }));
    expect(readMessages(r)[0]!.reject).toBe(true);
  });
});

describe("PreVote (thesis 9.6)", () => {
  test("a partitioned node rejoining does not disrupt the leader", () => {
    const nt = new TestNetwork([null, null, null], { preVote: true });
    hup(nt, 1);
    expect(nt.raft(1).state).toBe(StateType.Leader);
    nt.propose(1, "x");
    nt.isolate(3);
    const r3 = nt.raft(3);
    for (let i = 0; i < 100; i++) {
      r3.tick();
      nt.send(...readMessages(r3));
    }
    // It keeps trying PreVote rounds without raising its term.
    expect(r3.term).toBe(1);
    expect(r3.state).toBe(StateType.PreCandidate);
    nt.recover();
    // Its PreVote is rejected (its log is behind); the leader keeps its term and role.
    for (let i = 0; i < 40; i++) {
      r3.tick();
      nt.send(...readMessages(r3));
      nt.stepLocal(1, { type: MessageType.MsgBeat });
    }
    expect(nt.raft(1).state).toBe(StateType.Leader);
    expect(nt.raft(1).term).toBe(1);
    expect(r3.state).toBe(StateType.Follower);
    expect(r3.lead).toBe(1n);
  });

  test("without PreVote the same rejoin forces a new election", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.propose(1, "x");
    nt.isolate(3);
    const r3 = nt.raft(3);
    for (let i = 0; i < 100; i++) {
      r3.tick();
      nt.send(...readMessages(r3));
    }
    expect(r3.term).toBeGreaterThan(2);
    nt.recover();
    nt.stepLocal(1, { type: MessageType.MsgBeat });
    // The leader sees a higher term in the response and steps down.
    expect(nt.raft(1).state).toBe(StateType.Follower);
  });
});

describe("CheckQuorum and leader lease (thesis 6.2)", () => {
  test("a leader that loses its quorum steps down after an election timeout", () => {
    const nt = new TestNetwork([null, null, null], { checkQuorum: true });
    hup(nt, 1);
    expect(nt.raft(1).state).toBe(StateType.Leader);
    nt.isolate(1);
    const r1 = nt.raft(1);
    tickN(r1, r1.electionTimeout);
    nt.send(...readMessages(r1));
    expect(r1.state).toBe(StateType.Leader); // first check: followers were active in the previous period
    tickN(r1, r1.electionTimeout);
    expect(r1.state).toBe(StateType.Follower);
  });

  test("a leader hearing from its quorum stays", () => {
    const nt = new TestNetwork([null, null, null], { checkQuorum: true });
    hup(nt, 1);
    const r1 = nt.raft(1);
    for (let i = 0; i < 5 * r1.electionTimeout; i++) {
      r1.tick();
      nt.send(...readMessages(r1));
    }
    expect(r1.state).toBe(StateType.Leader);
  });

  test("followers in lease ignore vote requests", () => {
    const nt = new TestNetwork([null, null, null], { checkQuorum: true });
    hup(nt, 1);
    // Node 3 campaigns right away (no timeout elapsed); 2 is in lease and ignores it.
    hup(nt, 3);
    expect(nt.raft(3).state).toBe(StateType.Candidate);
    expect(nt.raft(1).state).toBe(StateType.Leader);
    expect(nt.raft(2).vote).toBe(1n);
  });
});

describe("log replication (paper 5.3)", () => {
  test("proposals commit on all nodes", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.propose(1, "a");
    nt.propose(2, "b"); // forwarded
    for (const id of [1, 2, 3]) {
      const r = nt.raft(id);
      expect(r.raftLog.committed).toBe(3);
      expect(r.raftLog.allEntries().map((e) => new TextDecoder().decode(e.data))).toEqual(["", "a", "b"]);
    }
  });

  test("a follower rejects an append that fails the consistency check", () => {
    const r = newTestRaft(1n, [1n, 2n]);
    r.becomeFollower(2, 2n);
    r.step(makeMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 2, logTerm: 1, index: 5, entries: [ent(2, 6)] }));
    const [m] = readMessages(r);
    expect(m!.type).toBe(MessageType.MsgAppResp);
    expect(m!.reject).toBe(true);
    expect(m!.rejectHint).toBe(0);
  });

  test("a follower overwrites a conflicting uncommitted suffix", () => {
    const s = new MemoryStorage({ voters: [1n, 2n], learners: [] });
    s.append([ent(1, 1), ent(1, 2), ent(2, 3), ent(2, 4)]);
    const r = newTestRaft(1n, [1n, 2n], {}, s);
    r.becomeFollower(3, 2n);
    r.step(makeMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 3, logTerm: 1, index: 2, entries: [ent(3, 3)], commit: 3 }));
    expect(r.raftLog.allEntries().map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 3]]);
    expect(r.raftLog.committed).toBe(3);
  });

  test("fast back-off skips a divergent term in few round trips", () => {
    // Leader log: 1..10 at term 1, then term 3 entries. Follower: 1..10 at term 1, then 100 entries at term 2.
    const leaderStore = new MemoryStorage({ voters: [1n, 2n, 3n], learners: [] });
    const followerStore = new MemoryStorage({ voters: [1n, 2n, 3n], learners: [] });
    const common = Array.from({ length: 10 }, (_, i) => ent(1, i + 1));
    leaderStore.append([...common, ...Array.from({ length: 5 }, (_, i) => ent(3, 11 + i))]);
    followerStore.append([...common, ...Array.from({ length: 100 }, (_, i) => ent(2, 11 + i))]);
    leaderStore.setHardState({ term: 3, vote: 1n, commit: 10 });
    followerStore.setHardState({ term: 3, vote: 1n, commit: 10 });
    const leader = newTestRaft(1n, [], {}, leaderStore);
    const follower = newTestRaft(2n, [], {}, followerStore);
    const nt = new TestNetwork([leader, follower, null]);
    let rejections = 0;
    nt.msgHook = (m) => {
      if (m.type === MessageType.MsgAppResp && m.reject) rejections++;
      return true;
    };
    hup(nt, 1);
    expect(leader.state).toBe(StateType.Leader);
    nt.propose(1, "z");
    expect(follower.raftLog.lastIndex()).toBe(leader.raftLog.lastIndex());
    expect(follower.raftLog.term(11)).toBe(3);
    expect(follower.raftLog.committed).toBe(leader.raftLog.committed);
    expect(rejections).toBeLessThanOrEqual(4);
  });

  test("pipelining is bounded by the inflight window", () => {
    const r = newTestRaft(1n, [1n, 2n], { maxInflightMsgs: 3, maxSizePerMsg: 0 });
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    // Move 2 to replicate state.
    r.step(makeMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
    expect(r.prs.progress.get(2n)!.state).toBe(ProgressState.Replicate);
    readMessages(r);
    for (let i = 0; i < 10; i++) r.step(makeMessage({ type: MessageType.MsgProp, from: 1n, entries: [ent(0, 0, `p${i}`)] }));
    const apps = readMessages(r).filter((m) => m.type === MessageType.MsgApp);
    expect(apps.length).toBe(3);
    expect(r.prs.progress.get(2n)!.isPaused()).toBe(true);
    // Acknowledging the first frees one slot: exactly one more message goes out.
    r.step(makeMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: apps[0]!.entries.at(-1)!.index }));
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgApp).length).toBe(1);
  });

  test("entries are batched up to maxSizePerMsg", () => {
    const nt = new TestNetwork([null, null], { maxSizePerMsg: 200 });
    hup(nt, 1);
    nt.isolate(2);
    for (let i = 0; i < 20; i++) nt.propose(1, "x".repeat(50));
    nt.recover();
    const sizes: number[] = [];
    nt.msgHook = (m) => {
      if (m.type === MessageType.MsgApp && m.entries.length > 0) sizes.push(m.entries.length);
      return true;
    };
    nt.stepLocal(1, { type: MessageType.MsgBeat });
    expect(nt.raft(2).raftLog.lastIndex()).toBe(21);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.length).toBeGreaterThan(5);
  });
});

describe("commit rule (paper 5.4.2, figure 8)", () => {
  test("a leader does not commit a previous-term entry by counting replicas", () => {
    const s = new MemoryStorage({ voters: [1n, 2n, 3n], learners: [] });
    s.append([ent(1, 1), ent(2, 2)]);
    s.setHardState({ term: 2, vote: None, commit: 0 });
    const r = newTestRaft(1n, [], {}, s);
    r.becomeCandidate();
    r.becomeLeader(); // term 3, no-op at index 3
    expect(r.term).toBe(3);
    readMessages(r);
    // A majority stores index 2 (term 2): must not commit.
    r.step(makeMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3, index: 2 }));
    expect(r.raftLog.committed).toBe(0);
    // Once the current-term no-op is on a majority, everything before it commits too.
    r.step(makeMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3, index: 3 }));
    expect(r.raftLog.committed).toBe(3);
  });
});

describe("snapshots (paper 7)", () => {
  test("a lagging follower whose next entries are compacted is caught up by snapshot", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.isolate(3);
    for (let i = 0; i < 20; i++) nt.propose(1, `v${i}`);
    const leader = nt.raft(1);
    const ls = nt.storage.get(1n)!;
    nextEnts(leader, ls);
    ls.createSnapshot(leader.raftLog.applied, { voters: [1n, 2n, 3n], learners: [] }, enc("state"));
    ls.compact(leader.raftLog.applied);
    nt.recover();
    const snaps: number[] = [];
    nt.msgHook = (m) => {
      if (m.type === MessageType.MsgSnap) snaps.push(m.snapshot!.metadata.index);
      return true;
    };
    nt.stepLocal(1, { type: MessageType.MsgBeat });
    expect(snaps).toEqual([21]);
    const pr = leader.prs.progress.get(3n)!;
    // The follower answered the snapshot with its new last index: replication resumed.
    expect(pr.match).toBe(21);
    expect(pr.state).toBe(ProgressState.Replicate);
    const r3 = nt.raft(3);
    expect(r3.raftLog.committed).toBe(21);
    expect(r3.raftLog.unstable.snapshot?.data).toEqual(enc("state"));
    nt.propose(1, "after");
    expect(r3.raftLog.lastIndex()).toBe(22);
  });

  test("a failed snapshot transfer falls back to probing, a finished one waits for the follower", () => {
    const s = new MemoryStorage({ voters: [1n, 2n], learners: [] });
    s.append([ent(1, 1), ent(1, 2), ent(1, 3)]);
    s.createSnapshot(3, { voters: [1n, 2n], learners: [] }, enc("s"));
    s.compact(3);
    s.setHardState({ term: 1, vote: None, commit: 3 });
    const r = newTestRaft(1n, [], {}, s);
    r.becomeCandidate();
    r.becomeLeader();
    r.prs.progress.get(2n)!.next = 1; // follower far behind
    r.prs.progress.get(2n)!.recentActive = true; // snapshots go only to recently active followers
    r.sendAppend(2n);
    expect(readMessages(r).map((m) => m.type)).toContain(MessageType.MsgSnap);
    const pr = r.prs.progress.get(2n)!;
    expect(pr.state).toBe(ProgressState.Snapshot);
    expect(pr.pendingSnapshot).toBe(3);
    r.step(makeMessage({ type: MessageType.MsgSnapStatus, from: 2n, reject: true }));
    expect(pr.state).toBe(ProgressState.Probe);
    expect(pr.pendingSnapshot).toBe(0);
    expect(pr.next).toBe(1);
    expect(pr.probeSent).toBe(true);
    // Retry; this time it succeeds.
    pr.probeSent = false;
    r.sendAppend(2n);
    expect(pr.state).toBe(ProgressState.Snapshot);
    r.step(makeMessage({ type: MessageType.MsgSnapStatus, from: 2n, reject: false }));
    expect(pr.state).toBe(ProgressState.Probe);
    expect(pr.next).toBe(4);
    expect(pr.probeSent).toBe(true);
  });

  test("a follower ignores a snapshot older than its commit index", () => {
    const r = newTestRaft(2n, [1n, 2n]);
    r.becomeFollower(1, 1n);
    r.step(makeMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, logTerm: 0, index: 0, entries: [ent(1, 1), ent(1, 2)], commit: 2 }));
    readMessages(r);
    const snap = { data: enc(""), metadata: { index: 1, term: 1, confState: { voters: [1n, 2n], learners: [] } } };
    r.step(makeMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: snap }));
    const [m] = readMessages(r);
    expect(m!.type).toBe(MessageType.MsgAppResp);
    expect(m!.index).toBe(2);
    expect(r.raftLog.unstable.snapshot).toBeUndefined();
  });
});

describe("learners (thesis 4.2.1)", () => {
  test("a learner receives the log, never campaigns, and is not counted in quorums", () => {
    const mk = (id: bigint) => newTestRaft(id, [1n, 2n], { learners: [3n] }, new MemoryStorage({ voters: [1n, 2n], learners: [3n] }));
    const nt = new TestNetwork([mk(1n), mk(2n), mk(3n)]);
    const r3 = nt.raft(3);
    expect(r3.isLearner).toBe(true);
    tickElection(r3);
    expect(r3.state).toBe(StateType.Follower);
    expect(readMessages(r3)).toEqual([]);
    hup(nt, 1);
    nt.propose(1, "a");
    expect(r3.raftLog.lastIndex()).toBe(2);
    expect(r3.raftLog.committed).toBe(2);
    // With voter 2 gone the learner alone cannot form a quorum with the leader.
    nt.isolate(2);
    nt.propose(1, "b");
    expect(r3.raftLog.lastIndex()).toBe(3);
    expect(nt.raft(1).raftLog.committed).toBe(2);
  });

  test("a promoted learner becomes a voter and may campaign", () => {
    const mk = (id: bigint) => newTestRaft(id, [1n, 2n], { learners: [3n] }, new MemoryStorage({ voters: [1n, 2n], learners: [3n] }));
    const nt = new TestNetwork([mk(1n), mk(2n), mk(3n)]);
    hup(nt, 1);
    for (const id of [1, 2, 3]) {
      nt.raft(id).applyConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 3n, context: new Uint8Array(), id: 0n });
    }
    const r3 = nt.raft(3);
    expect(r3.isLearner).toBe(false);
    expect(nt.raft(1).prs.voters).toEqual([1n, 2n, 3n]);
    nt.isolate(1);
    hup(nt, 3);
    expect(r3.state).toBe(StateType.Leader);
  });
});

describe("configuration changes (thesis 4.1)", () => {
  const cc = (type: ConfChangeType, id: bigint) => ({ term: 0, index: 0, type: EntryType.EntryConfChange, data: enc(`${type}:${id}`) });

  test("only one conf change may be pending, and only after a current-term commit", () => {
    const r = newTestRaft(1n, [1n, 2n]);
    r.becomeCandidate();
    r.becomeLeader();
    const propose = () => r.step(makeMessage({ type: MessageType.MsgProp, from: 1n, entries: [cc(ConfChangeType.ConfChangeAddNode, 3n)] }));
    // The no-op of the new term is not committed yet.
    expect(propose).toThrow(RaftError);
    r.step(makeMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
    r.raftLog.appliedTo(1);
    propose();
    expect(r.pendingConfIndex).toBe(2);
    expect(propose).toThrow("conf change refused");
    // Once applied, the next one is accepted.
    r.step(makeMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 2 }));
    r.raftLog.appliedTo(2);
    propose();
    expect(r.pendingConfIndex).toBe(3);
  });

  test("removing a node shrinks the quorum so pending entries commit", () => {
    const nt = new TestNetwork([null, null, undefined]);
    hup(nt, 1);
    nt.propose(1, "a");
    const r1 = nt.raft(1);
    const committed = r1.raftLog.committed;
    nt.cut(1, 2);
    nt.propose(1, "b");
    expect(r1.raftLog.committed).toBe(committed);
    // Remove both other nodes: a single-voter config commits everything of the current term.
    r1.applyConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n, context: new Uint8Array(), id: 0n });
    expect(r1.raftLog.committed).toBe(committed);
    r1.applyConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3n, context: new Uint8Array(), id: 0n });
    expect(r1.raftLog.committed).toBe(committed + 1);
  });

  test("a node with pending committed conf changes does not campaign", () => {
    const s = new MemoryStorage({ voters: [1n, 2n], learners: [] });
    s.append([{ term: 1, index: 1, type: EntryType.EntryConfChange, data: enc("x") }]);
    s.setHardState({ term: 1, vote: None, commit: 1 });
    const r = newTestRaft(1n, [], {}, s);
    r.step(makeMessage({ type: MessageType.MsgHup }));
    expect(r.state).toBe(StateType.Follower);
    r.raftLog.appliedTo(1);
    r.step(makeMessage({ type: MessageType.MsgHup }));
    expect(r.state).toBe(StateType.Candidate);
  });
});

describe("leadership transfer (thesis 3.10)", () => {
  test("transfer to an up-to-date follower", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.propose(1, "a");
    nt.send(makeMessage({ type: MessageType.MsgTransferLeader, from: 2n, to: 1n }));
    expect(nt.raft(2).state).toBe(StateType.Leader);
    expect(nt.raft(1).state).toBe(StateType.Follower);
    expect(nt.raft(1).lead).toBe(2n);
    // And back, requested through a follower (forwarded to the leader).
    nt.send(makeMessage({ type: MessageType.MsgTransferLeader, from: 1n, to: 3n }));
    expect(nt.raft(1).state).toBe(StateType.Leader);
  });

  test("transfer to a lagging follower catches it up first; proposals are dropped meanwhile", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.isolate(3);
    nt.propose(1, "a");
    nt.propose(1, "b");
    nt.recover();
    nt.ignore(MessageType.MsgApp);
    nt.send(makeMessage({ type: MessageType.MsgTransferLeader, from: 3n, to: 1n }));
    const r1 = nt.raft(1);
    expect(r1.leadTransferee).toBe(3n);
    expect(() => r1.step(makeMessage({ type: MessageType.MsgProp, from: 1n, entries: [ent(0, 0, "c")] }))).toThrow("raft proposal dropped");
    nt.recover();
    nt.stepLocal(1, { type: MessageType.MsgBeat });
    expect(nt.raft(3).state).toBe(StateType.Leader);
    expect(r1.leadTransferee).toBe(None);
  });

  test("a transfer that cannot finish is abandoned after an election timeout", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.isolate(3);
    nt.send(makeMessage({ type: MessageType.MsgTransferLeader, from: 3n, to: 1n }));
    const r1 = nt.raft(1);
    expect(r1.leadTransferee).toBe(3n);
    tickN(r1, r1.electionTimeout);
    expect(r1.leadTransferee).toBe(None);
    expect(r1.state).toBe(StateType.Leader);
  });

  test("transfer to a learner is ignored", () => {
    const mk = (id: bigint) => newTestRaft(id, [1n, 2n], { learners: [3n] }, new MemoryStorage({ voters: [1n, 2n], learners: [3n] }));
    const nt = new TestNetwork([mk(1n), mk(2n), mk(3n)]);
    hup(nt, 1);
    nt.send(makeMessage({ type: MessageType.MsgTransferLeader, from: 3n, to: 1n }));
    expect(nt.raft(1).leadTransferee).toBe(None);
    expect(nt.raft(1).state).toBe(StateType.Leader);
  });
});

describe("ReadIndex (thesis 6.4)", () => {
  test("reads wait for the new leader's first commit, then one heartbeat round serves many", () => {
    const nt = new TestNetwork([null, null, null]);
    nt.ignore(MessageType.MsgApp);
    hup(nt, 1);
    const r1 = nt.raft(1);
    expect(r1.state).toBe(StateType.Leader);
    nt.send(makeMessage({ type: MessageType.MsgReadIndex, from: 1n, to: 1n, entries: [ent(0, 0, "early")] }));
    expect(r1.readStates).toEqual([]);
    nt.recover();
    nt.stepLocal(1, { type: MessageType.MsgBeat }); // catches followers up; no-op commits
    expect(r1.readStates.map((rs) => [rs.index, new TextDecoder().decode(rs.requestCtx)])).toEqual([[1, "early"]]);
    r1.readStates = [];

    // Hold heartbeat responses so requests pile up behind one round.
    let heartbeats = 0;
    const held: ReturnType<typeof makeMessage>[] = [];
    nt.msgHook = (m) => {
      if (m.type === MessageType.MsgHeartbeat) heartbeats++;
      if (m.type === MessageType.MsgHeartbeatResp) {
        held.push(m);
        return false;
      }
      return true;
    };
    const ctxs = () => r1.readStates.map((rs) => new TextDecoder().decode(rs.requestCtx));
    for (let i = 0; i < 5; i++) nt.send(makeMessage({ type: MessageType.MsgReadIndex, from: 1n, to: 1n, entries: [ent(0, 0, `r${i}`)] }));
    expect(heartbeats).toBe(2); // one round (to 2 followers) for r0; r1..r4 wait for the next one
    // r0's round completes: only r0 is answered (its acks predate r1..r4), and one round starts for r1..r4.
    nt.send(...held.splice(0));
    expect(ctxs()).toEqual(["r0"]);
    expect(heartbeats).toBe(4);
    nt.send(...held.splice(0));
    expect(ctxs()).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    expect(heartbeats).toBe(4);
    expect(r1.readStates.every((rs) => rs.index === r1.raftLog.committed)).toBe(true);
  });

  test("a follower's read is forwarded and answered", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.propose(1, "a");
    nt.send(makeMessage({ type: MessageType.MsgReadIndex, from: 2n, to: 2n, entries: [ent(0, 0, "f")] }));
    expect(nt.raft(2).readStates).toEqual([{ index: 2, requestCtx: enc("f") }]);
  });

  test("a deposed leader cannot complete a read", () => {
    const nt = new TestNetwork([null, null, null]);
    hup(nt, 1);
    nt.isolate(1);
    hup(nt, 2);
    nt.send(makeMessage({ type: MessageType.MsgReadIndex, from: 1n, to: 1n, entries: [ent(0, 0, "stale")] }));
    nt.recover();
    nt.stepLocal(1, { type: MessageType.MsgBeat });
    // The stale leader still believes it leads (no higher term reached it) but gets no read quorum.
    expect(nt.raft(1).readStates).toEqual([]);
  });
});

describe("flow limits and read modes", () => {
  test("the uncommitted tail is bounded by maxUncommittedEntriesSize", () => {
    const r = newTestRaft(1n, [1n, 2n], { maxUncommittedEntriesSize: 10 });
    r.becomeCandidate();
    r.becomeLeader();
    const prop = (data: string) => r.step(makeMessage({ type: MessageType.MsgProp, from: 1n, entries: [ent(0, 0, data)] }));
    prop("12345678");
    expect(() => prop("12345678")).toThrow("uncommitted size limit");
    // Once entries are committed and handed to the application, room frees up.
    r.step(makeMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 2 }));
    r.reduceUncommittedSize(r.raftLog.nextEnts());
    prop("12345678");
    expect(r.raftLog.lastIndex()).toBe(3);
  });

  test("lease-based reads are answered without a heartbeat round", () => {
    const nt = new TestNetwork([null, null, null], { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
    hup(nt, 1);
    let heartbeats = 0;
    nt.msgHook = (m) => {
      if (m.type === MessageType.MsgHeartbeat) heartbeats++;
      return true;
    };
    nt.send(makeMessage({ type: MessageType.MsgReadIndex, from: 1n, to: 1n, entries: [ent(0, 0, "l")] }));
    expect(nt.raft(1).readStates).toEqual([{ index: 1, requestCtx: enc("l") }]);
    expect(heartbeats).toBe(0);
    expect(() => newTestRaft(1n, [1n], { readOnlyOption: ReadOnlyOption.LeaseBased })).toThrow("CheckQuorum must be enabled");
  });
});

describe("proposals", () => {
  test("dropped with an error when no leader is known", () => {
    const r = newTestRaft(1n, [1n, 2n, 3n]);
    expect(() => r.step(makeMessage({ type: MessageType.MsgProp, from: 1n, entries: [ent(0, 0, "x")] }))).toThrow("raft proposal dropped");
    r.becomeCandidate();
    expect(() => r.step(makeMessage({ type: MessageType.MsgProp, from: 1n, entries: [ent(0, 0, "x")] }))).toThrow("raft proposal dropped");
  });

  test("a stale leader's appends are answered with the newer term", () => {
    const nt = new TestNetwork([null, null, null], { checkQuorum: true });
    hup(nt, 1);
    nt.isolate(1);
    for (let i = 0; i < 2 * 10; i++) {
      for (const id of [2, 3]) {
        nt.raft(id).tick();
        nt.send(...readMessages(nt.raft(id)));
      }
    }
    // 2 or 3 won an election at term 2 once the lease expired.
    const newLeader = [2, 3].find((id) => nt.raft(id).state === StateType.Leader)!;
    expect(newLeader).toBeDefined();
    nt.recover();
    stepOrDrop(nt.raft(1), makeMessage({ type: MessageType.MsgBeat }));
    nt.send(...readMessages(nt.raft(1)));
    expect(nt.raft(1).state).toBe(StateType.Follower);
    expect(nt.raft(1).term).toBe(nt.raft(newLeader).term);
  });
});
