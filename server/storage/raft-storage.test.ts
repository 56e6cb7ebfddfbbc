import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { isRaftError } from "../raft/errors.ts";
import { EntryType, type Entry } from "../raft/types.ts";
import { Meta } from "./meta.ts";
import { SqliteRaftStorage } from "./raft-storage.ts";
import { openBackend } from "./sqlite.ts";

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir?: string): { storage: SqliteRaftStorage; db: Database; dir: string } {
  const d = dir ?? mkdtempSync(join(tmpdir(), "raft-storage-"));
  if (!dir) dirs.push(d);
  const db = openBackend(d);
  dbs.push(db);
  return { storage: new SqliteRaftStorage(db, new Meta(db)), db, dir: d };
}

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: EntryType.EntryNormal,
  data: new TextEncoder().encode(`e${index}`),
});

function code(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (isRaftError(e, "ErrCompacted")) return "compacted";
    if (isRaftError(e, "ErrUnavailable")) return "unavailable";
    throw e;
  }
}

test("append replaces a conflicting tail; entries and terms read back", () => {
  const { storage } = open();
  storage.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
  storage.append([entry(3, 2), entry(4, 2)]);
  expect(storage.lastIndex()).toBe(4);
  expect(storage.firstIndex()).toBe(1);
  expect(storage.entries(1, 5, Infinity).map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2]]);
  expect(storage.term(3)).toBe(2);
  expect(code(() => storage.term(5))).toBe("unavailable");
  expect(code(() => storage.entries(2, 6, Infinity))).toBe("unavailable");
});

test("createSnapshot compacts all but `keep` entries; restart keeps log, hard state and snapshot", () => {
  const { storage, dir, db } = open();
  storage.append([1, 2, 3, 4, 5, 6].map((i) => entry(i, i < 4 ? 1 : 2)));
  storage.setHardState({ term: 2, vote: 7n, commit: 6 });
  storage.createSnapshot(5, 2, { voters: [7n, 9n], learners: [11n] }, 2);
  expect(storage.firstIndex()).toBe(4);
  expect(storage.term(3)).toBe(1);
  expect(code(() => storage.term(2))).toBe("compacted");
  expect(code(() => storage.entries(3, 5, Infinity))).toBe("compacted");
  expect(storage.snapshot().metadata).toEqual({ index: 5, term: 2, confState: { voters: [7n, 9n], learners: [11n] } });
  db.close();
  dbs.splice(dbs.indexOf(db), 1);
  const again = open(dir).storage;
  expect(again.firstIndex()).toBe(4);
  expect(again.lastIndex()).toBe(6);
  expect(again.entries(4, 7, Infinity).map((e) => e.index)).toEqual([4, 5, 6]);
  expect(again.initialState()).toEqual({ hardState: { term: 2, vote: 7n, commit: 6 }, confState: { voters: [7n, 9n], learners: [11n] } });
});

test("large entries: the in-memory tail keeps only part of them (64 MiB), the rest read back from SQLite, also after a conflict", () => {
  const { storage } = open();
  const big = (index: number, term: number): Entry => ({ index, term, type: EntryType.EntryNormal, data: new Uint8Array(1024 * 1024).fill(index) });
  for (let i = 1; i <= 100; i++) storage.append([big(i, 1)]);
  storage.append([big(99, 2), big(100, 2)]);
  const got = storage.entries(1, 101, Infinity);
  expect(got.map((e) => [e.index, e.term, e.data[0]])).toEqual(Array.from({ length: 100 }, (_, i) => [i + 1, i >= 98 ? 2 : 1, (i + 1) & 0xff]));
  expect(storage.term(50)).toBe(1);
  expect(storage.term(100)).toBe(2);
  const internals = storage as unknown as { tail: Entry[]; tailBytes: number };
  expect(internals.tailBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
  expect(internals.tailBytes).toBe(internals.tail.reduce((n, e) => n + e.data.length, 0));
});

test("releaseTail: released entries leave memory but not SQLite; the latest 1024 and unreleased ones stay in memory", () => {
  const { storage } = open();
  const internals = storage as unknown as { tail: Entry[]; tailBytes: number };
  for (let i = 1; i <= 3000; i++) storage.append([entry(i, 1)]);
  storage.releaseTail(100);
  expect(internals.tail.length).toBe(3000);
  storage.releaseTail(2500);
  expect(internals.tail[0]!.index).toBe(3000 - 1024 + 1);
  expect(internals.tail.length).toBe(1024);
  expect(internals.tailBytes).toBe(internals.tail.reduce((n, e) => n + e.data.length, 0));
  expect(storage.entries(1, 3001, Infinity).map((e) => e.index)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  expect([storage.term(1), storage.term(3000)]).toEqual([1, 1]);
  storage.append([entry(3000, 2), entry(3001, 2)]);
  expect(storage.entries(2999, 3002, Infinity).map((e) => [e.index, e.term])).toEqual([[2999, 1], [3000, 2], [3001, 2]]);
});

test("releaseTail: released entries of large values leave memory down to 1 MiB of data (the last entry stays); unreleased ones stay whatever their size", () => {
  const { storage } = open();
  const internals = storage as unknown as { tail: Entry[]; tailBytes: number };
  const sized = (index: number): Entry => ({ index, term: 1, type: EntryType.EntryNormal, data: new Uint8Array(64 * 1024).fill(index) });
  for (let i = 1; i <= 512; i++) {
    storage.append([sized(i)]);
    storage.releaseTail(i);
    expect(internals.tailBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  }
  expect(internals.tail.length).toBeGreaterThanOrEqual(16);
  expect(internals.tail.at(-1)!.index).toBe(512);
  expect(internals.tailBytes).toBe(internals.tail.reduce((n, e) => n + e.data.length, 0));
  expect(storage.entries(1, 513, Infinity).map((e) => e.data[0])).toEqual(Array.from({ length: 512 }, (_, i) => (i + 1) & 0xff));
  for (let i = 513; i <= 600; i++) storage.append([sized(i)]);
  storage.releaseTail(512);
  expect(internals.tail[0]!.index).toBeLessThanOrEqual(513);
  expect(internals.tailBytes).toBeGreaterThanOrEqual(88 * 64 * 1024);
  storage.releaseTail(600);
  expect(internals.tail.map((e) => e.index)).toEqual(Array.from({ length: 16 }, (_, i) => 585 + i));
  expect([storage.term(1), storage.term(600)]).toEqual([1, 1]);
});

test("applySnapshot empties the log at the snapshot position; a snapshot carries no data (the transport sends the image)", () => {
  const { storage, db } = open();
  storage.append([entry(1, 1), entry(2, 1)]);
  storage.applySnapshot({ data: new Uint8Array(), metadata: { index: 10, term: 3, confState: { voters: [1n], learners: [] } } });
  expect([storage.firstIndex(), storage.lastIndex(), storage.term(10)]).toEqual([11, 10, 3]);
  storage.append([entry(11, 3)]);
  expect(storage.entries(11, 12, Infinity)[0]!.term).toBe(3);
  expect(storage.snapshot()).toEqual({ data: new Uint8Array(), metadata: { index: 10, term: 3, confState: { voters: [1n], learners: [] } } });
  expect(db.inTransaction).toBe(false);
});

test("compacted rows leave raft_log in trimLog batches, oldest first; a restart resumes the trim", () => {
  const { storage, dir, db } = open();
  const rows = () => db.query<{ lo: number; n: number }, []>("SELECT min(idx) AS lo, count(*) AS n FROM raft_log").get()!;
  storage.append(Array.from({ length: 20 }, (_, i) => entry(i + 1, 1)));
  storage.createSnapshot(18, 1, { voters: [1n], learners: [] }, 3);
  expect(storage.firstIndex()).toBe(16);
  expect(rows()).toEqual({ lo: 1, n: 20 });
  expect(code(() => storage.entries(15, 17, Infinity))).toBe("compacted");
  expect(storage.trimLog(4)).toBe(true);
  expect(rows()).toEqual({ lo: 5, n: 16 });
  db.close();
  dbs.splice(dbs.indexOf(db), 1);
  const again = open(dir);
  expect([again.storage.firstIndex(), again.storage.lastIndex()]).toEqual([16, 20]);
  expect(again.storage.trimLog(4)).toBe(true);
  expect(again.storage.trimLog(4)).toBe(true);
  expect(again.storage.trimLog(4)).toBe(false);
  const left = again.db.query<{ lo: number; n: number }, []>("SELECT min(idx) AS lo, count(*) AS n FROM raft_log").get();
  expect(left).toEqual({ lo: 16, n: 5 });
  expect(again.storage.trimLog(4)).toBe(false);
  expect(again.storage.entries(16, 21, Infinity).map((e) => e.index)).toEqual([16, 17, 18, 19, 20]);
});

test("applySnapshot drops the entries above the snapshot at once and trims the rest in batches", () => {
  const { storage, db } = open();
  storage.append(Array.from({ length: 10 }, (_, i) => entry(i + 1, 1)));
  storage.applySnapshot({ data: new Uint8Array(), metadata: { index: 6, term: 2, confState: { voters: [1n], learners: [] } } });
  expect([storage.firstIndex(), storage.lastIndex(), storage.term(6)]).toEqual([7, 6, 2]);
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM raft_log").get()!.n).toBe(6);
  while (storage.trimLog(4));
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM raft_log").get()!.n).toBe(0);
  storage.append([entry(7, 2)]);
  expect(storage.entries(7, 8, Infinity).map((e) => [e.index, e.term])).toEqual([[7, 2]]);
});
