// RaftLog, MemoryStorage, Inflights and quorum arithmetic (in the style of etcd's log_test.go,
// storage_test.go, inflights_test.go and quorum tests).
import { describe, expect, test } from "bun:test";
import { Inflights } from "./inflights.ts";
import { RaftLog } from "./log.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { VoteResult, committedIndex, voteResult } from "./quorum.ts";
import { RaftError } from "./errors.ts";
import { type Entry, EntryType } from "./types.ts";

const ent = (index: number, term: number): Entry => ({ index, term, type: EntryType.EntryNormal, data: new Uint8Array(10) });
const terms = (es: Entry[]) => es.map((e) => [e.index, e.term]);

function logWith(...ts: number[]): RaftLog {
  const s = new MemoryStorage();
  s.append(ts.map((t, i) => ent(i + 1, t)));
  return new RaftLog(s);
}

describe("RaftLog", () => {
  test("findConflict locates the first mismatching entry", () => {
    const l = logWith(1, 2, 3);
    expect(l.findConflict([ent(1, 1), ent(2, 2)])).toBe(0);
    expect(l.findConflict([ent(2, 2), ent(3, 4)])).toBe(3);
    expect(l.findConflict([ent(3, 3), ent(4, 4)])).toBe(4);
  });

  test("findConflictByTerm skips entries of larger terms (fast back-off)", () => {
    const l = logWith(1, 1, 3, 3, 3, 5, 5);
    expect(l.findConflictByTerm(7, 4)).toBe(5); // terms 5 > 4 are skipped
    expect(l.findConflictByTerm(7, 2)).toBe(2);
    expect(l.findConflictByTerm(7, 5)).toBe(7);
    expect(l.findConflictByTerm(10, 5)).toBe(10); // beyond the log: unchanged
    expect(l.findConflictByTerm(7, 0)).toBe(0);
  });

  test("maybeAppend truncates a conflicting suffix and bounds the commit", () => {
    const l = logWith(1, 2, 3);
    expect(l.maybeAppend(3, 2, 3, [])).toBeUndefined(); // term mismatch at 3
    expect(l.maybeAppend(1, 1, 10, [ent(2, 4)])).toBe(2);
    expect(terms(l.allEntries())).toEqual([[1, 1], [2, 4]]);
    expect(l.committed).toBe(2); // min(leader commit, last new index)
    expect(() => l.maybeAppend(0, 0, 2, [ent(1, 9)])).toThrow("conflicts with committed entry");
  });

  test("leader commit rule needs an entry of the given term", () => {
    const l = logWith(1, 2, 2);
    expect(l.maybeCommit(2, 1)).toBe(false);
    expect(l.maybeCommit(2, 2)).toBe(true);
    expect(l.committed).toBe(2);
    expect(l.maybeCommit(1, 1)).toBe(false); // never goes back
  });

  test("unstable entries are persisted with stableTo and handed out by nextEnts after commit", () => {
    const s = new MemoryStorage();
    const l = new RaftLog(s);
    l.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    expect(terms(l.unstableEntries())).toEqual([[1, 1], [2, 1], [3, 2]]);
    s.append(l.unstableEntries().slice(0, 2));
    l.stableTo(2, 1);
    expect(terms(l.unstableEntries())).toEqual([[3, 2]]);
    l.commitTo(3);
    expect(terms(l.nextEnts())).toEqual([[1, 1], [2, 1], [3, 2]]);
    l.appliedTo(2);
    expect(terms(l.nextEnts())).toEqual([[3, 2]]);
    // A stale stableTo (term changed meanwhile) is ignored.
    l.stableTo(3, 1);
    expect(l.unstableEntries().length).toBe(1);
  });

  test("isUpToDate compares last term, then length (paper 5.4.1)", () => {
    const l = logWith(1, 2, 3);
    expect(l.isUpToDate(3, 3)).toBe(true);
    expect(l.isUpToDate(2, 3)).toBe(false);
    expect(l.isUpToDate(1, 4)).toBe(true);
    expect(l.isUpToDate(9, 2)).toBe(false);
  });

  test("reads below a snapshot report compaction", () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)]);
    s.createSnapshot(2, { voters: [1n], learners: [] }, new Uint8Array());
    s.compact(2);
    const l = new RaftLog(s);
    expect(l.firstIndex()).toBe(3);
    expect(l.term(2)).toBe(1);
    expect(l.term(1)).toBe(0);
    expect(l.entries(2, Infinity)).toBeUndefined();
    expect(terms(l.entries(3, Infinity)!)).toEqual([[3, 2], [4, 2]]);
  });
});

describe("MemoryStorage", () => {
  test("entries honour the size limit but return at least one entry", () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    expect(s.entries(1, 4, 0).length).toBe(1);
    expect(s.entries(1, 4, 40).length).toBe(2);
    expect(s.entries(1, 4, Infinity).length).toBe(3);
  });

  test("compaction, snapshots and overlapping appends", () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    s.compact(2);
    expect(() => s.term(1)).toThrow(RaftError);
    expect(() => s.compact(2)).toThrow("compaction");
    expect(s.term(2)).toBe(1);
    s.append([ent(3, 3), ent(4, 3)]); // overwrites 3
    expect(s.term(3)).toBe(3);
    expect(s.lastIndex()).toBe(4);
    expect(() => s.append([ent(6, 3)])).toThrow("missing log entry");
    const snap = s.createSnapshot(4, { voters: [1n, 2n], learners: [] }, new Uint8Array([7]));
    expect(snap.metadata).toEqual({ index: 4, term: 3, confState: { voters: [1n, 2n], learners: [] } });
    expect(() => s.createSnapshot(3, undefined, new Uint8Array())).toThrow("older than the existing snapshot");
    const other = new MemoryStorage();
    other.applySnapshot(snap);
    expect(other.firstIndex()).toBe(5);
    expect(other.initialState().confState.voters).toEqual([1n, 2n]);
  });
});

describe("Inflights", () => {
  test("a ring buffer freed in order", () => {
    const ins = new Inflights(3);
    ins.add(5);
    ins.add(7);
    ins.add(9);
    expect(ins.full()).toBe(true);
    expect(() => ins.add(11)).toThrow("full");
    ins.freeLE(6);
    expect(ins.length).toBe(2);
    ins.add(11); // wraps around
    ins.freeLE(9);
    expect(ins.length).toBe(1);
    ins.freeFirstOne();
    expect(ins.length).toBe(0);
  });
});

describe("quorum", () => {
  test("committed index is the majority's smallest acknowledgement", () => {
    const acked = new Map([[1n, 5], [2n, 3], [3n, 9], [4n, 1]]);
    expect(committedIndex([1n, 2n, 3n], (id) => acked.get(id) ?? 0)).toBe(5);
    expect(committedIndex([1n, 2n, 3n, 4n], (id) => acked.get(id) ?? 0)).toBe(3);
    expect(committedIndex([1n, 2n], (id) => acked.get(id) ?? 0)).toBe(3);
    expect(committedIndex([], () => 0)).toBe(Infinity);
  });

  test("vote results", () => {
    const votes = new Map([[1n, true], [2n, false]]);
    expect(voteResult([1n, 2n, 3n], votes)).toBe(VoteResult.Pending);
    votes.set(3n, true);
    expect(voteResult([1n, 2n, 3n], votes)).toBe(VoteResult.Won);
    expect(voteResult([1n, 2n, 3n, 4n], new Map([[1n, false], [2n, false]]))).toBe(VoteResult.Lost);
  });
});
