import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { deleteReq, putReq, rangeReq, rangeTuples, etcdError, str, tempStores, TempStore } from "./testing.ts";

const open = tempStores();

const COMPACTED: [Code, string] = [Code.OutOfRange, "etcdserver: mvcc: required revision has been compacted"];
const FUTURE: [Code, string] = [Code.OutOfRange, "etcdserver: mvcc: required revision is a future revision"];

/** History: 2 a=1, 3 a=2, 4 b=1, 5 delete b, 6 c=1, 7 c=2, 8 delete c, 9 b=again. */
function history(t: TempStore) {
  const s = t.store;
  s.put(putReq("a", "1")); // 2
  s.put(putReq("a", "2")); // 3
  s.put(putReq("b", "1")); // 4
  s.deleteRange(deleteReq("b")); // 5
  s.put(putReq("c", "1")); // 6
  s.put(putReq("c", "2")); // 7
  s.deleteRange(deleteReq("c")); // 8
  s.put(putReq("b", "again")); // 9
}

describe("compact", () => {
  test("keeps each key's latest revision <= rev, drops tombstoned histories, reads below fail", () => {
    const t = open();
    history(t);
    expect(t.rowCount()).toBe(8);
    t.store.compact(6);
    expect(t.store.compactRevision).toBe(6);
    expect(t.store.currentRevision).toBe(9);
    // Kept: a@3, c@6, c@7, tombstone c@8, b@9. Dropped: a@2, b@4, tombstone b@5.
    expect(t.rowCount()).toBe(5);
    expect(etcdError(() => t.store.range(rangeReq("a", "", { revision: 5n })))).toEqual(COMPACTED);
    const at = (rev: number) => rangeTuples(t.store.range(rangeReq("\0", "\0", { revision: BigInt(rev) })));
    expect(at(6)).toEqual([
      ["a", "2", 2, 3, 2],
      ["c", "1", 6, 6, 1],
    ]);
    expect(at(7)).toEqual([
      ["a", "2", 2, 3, 2],
      ["c", "2", 6, 7, 2],
    ]);
    expect(at(8)).toEqual([["a", "2", 2, 3, 2]]);
    expect(at(9)).toEqual([
      ["a", "2", 2, 3, 2],
      ["b", "again", 9, 9, 1],
    ]);
  });

  test("compacting past a tombstone removes the key from the index", () => {
    const t = open();
    history(t);
    t.store.compact(8);
    // Kept: a@3, b@9. Everything of c (tombstoned at 8) is gone.
    expect(t.rowCount()).toBe(2);
    expect(t.store.indexedKeys).toBe(2);
    expect(rangeTuples(t.store.range(rangeReq("c", "", { revision: 8n })))).toEqual([]);
  });

  test("errors: rev <= compact revision is Compacted, rev > current is FutureRev", () => {
    const t = open();
    history(t);
    expect(etcdError(() => t.store.compact(10))).toEqual(FUTURE);
    t.store.compact(5);
    expect(etcdError(() => t.store.compact(5))).toEqual(COMPACTED);
    expect(etcdError(() => t.store.compact(4))).toEqual(COMPACTED);
    t.store.compact(9);
    expect(t.store.compactRevision).toBe(9);
  });

  test("compacting at the current revision after a delete keeps the revision across restarts", () => {
    const t = open();
    t.store.put(putReq("a", "1")); // 2
    t.store.deleteRange(deleteReq("a")); // 3
    t.store.compact(3);
    expect(t.rowCount()).toBe(0);
    const s = t.reopen();
    expect(s.currentRevision).toBe(3);
    expect(s.compactRevision).toBe(3);
    expect(etcdError(() => s.range(rangeReq("a", "", { revision: 2n })))).toEqual(COMPACTED);
    s.put(putReq("a", "x"));
    expect(rangeTuples(s.range(rangeReq("a")))).toEqual([["a", "x", 4, 4, 1]]);
  });

  test("after reopening, compacted history stays gone and versions continue", () => {
    const t = open();
    history(t);
    t.store.put(putReq("a", "3")); // 10
    t.store.compact(7);
    const s = t.reopen();
    expect(s.compactRevision).toBe(7);
    expect(s.currentRevision).toBe(10);
    expect(etcdError(() => s.range(rangeReq("a", "", { revision: 6n })))).toEqual(COMPACTED);
    expect(rangeTuples(s.range(rangeReq("a", "", { revision: 7n })))).toEqual([["a", "2", 2, 3, 2]]);
    s.put(putReq("a", "4"));
    expect(rangeTuples(s.range(rangeReq("a")))).toEqual([["a", "4", 2, 11, 4]]);
    s.compact(11);
    expect(s.range(rangeReq("\0", "\0")).kvs.map((kv) => str(kv.key))).toEqual(["a", "b"]);
  });

  test("compact 0 on a never-compacted store succeeds once (etcd's compactMainRev starts at -1)", () => {
    const t = open();
    t.store.compact(0);
    expect(etcdError(() => t.store.compact(0))).toEqual(COMPACTED);
  });
});

describe("deferred compaction (deleted in batches by compactStep)", () => {
  test("freed rows stay until compactStep deletes them in batches; reads and HashKV are as after an immediate compaction", async () => {
    const { hashKV } = await import("./hash.ts");
    const deferred = open({ deferCompaction: true });
    const immediate = open();
    for (const t of [deferred, immediate]) {
      history(t);
      for (let i = 0; i < 50; i++) t.store.put(putReq("many", String(i))); // 10..59
      t.store.compact(50);
    }
    expect(deferred.store.compactRevision).toBe(50);
    expect(deferred.store.pendingCompactionRows).toBeGreaterThan(40);
    expect(deferred.rowCount()).toBe(58);
    expect(etcdError(() => deferred.store.range(rangeReq("a", "", { revision: 49n })))).toEqual(COMPACTED);
    expect(rangeTuples(deferred.store.range(rangeReq("many", "", { revision: 50n })))).toEqual(rangeTuples(immediate.store.range(rangeReq("many", "", { revision: 50n }))));
    expect((await hashKV(deferred.store, 59)).hash).toBe((await hashKV(immediate.store, 59)).hash);

    const afterOne = deferred.store.compactStep(10);
    expect(afterOne).toBe(deferred.store.pendingCompactionRows);
    expect(deferred.rowCount()).toBe(48);
    // A restart part-way finds the remaining rows again.
    const reopened = deferred.reopen();
    const left = reopened.pendingCompactionRows;
    expect(left).toBeGreaterThan(0);
    let steps = 0;
    while (reopened.compactStep(10) > 0) steps++;
    expect(steps).toBe(Math.ceil(left / 10) - 1);
    expect(deferred.rowCount()).toBe(immediate.rowCount());
    expect((await hashKV(reopened, 59)).hash).toBe((await hashKV(immediate.store, 59)).hash);
    expect(deferred.reopen().pendingCompactionRows).toBe(0);
  });

  test("an index larger than one step is compacted in steps; writes and a second compaction meanwhile end as an immediate compaction", async () => {
    const { hashKV } = await import("./hash.ts");
    const keys = 12_000; // 2 steps of the index (10,000 keys each)
    const deferred = open({ deferCompaction: true });
    const immediate = open();
    const key = (i: number) => `k${String(i).padStart(6, "0")}`;
    for (const t of [deferred, immediate]) {
      t.db.transaction(() => {
        for (let i = 0; i < keys; i++) t.store.put(putReq(key(i), "a"));
        for (let i = 0; i < keys; i += 2) t.store.put(putReq(key(i), "b"));
        for (let i = 0; i < keys; i += 5) t.store.deleteRange(deleteReq(key(i)));
      })();
      t.store.compact(t.store.currentRevision - 100);
    }
    // The first step ran inside compact(); more keys wait.
    expect(deferred.store.pendingCompactionRows).toBeGreaterThan(0);
    const rows = () => rangeTuples(deferred.store.range(rangeReq("k", "l")));
    expect(rows()).toEqual(rangeTuples(immediate.store.range(rangeReq("k", "l"))));
    // Writes to keys the index has not reached yet, then the rest of the first pass, then a
    // second compaction that starts over.
    for (const t of [deferred, immediate]) {
      t.store.put(putReq(key(11_999), "c"));
      t.store.deleteRange(deleteReq(key(10_001)));
    }
    deferred.store.compactStep(0);
    for (const t of [deferred, immediate]) t.store.compact(t.store.currentRevision - 1);
    let steps = 0;
    while (deferred.store.compactStep(1_000) > 0) steps++;
    expect(steps).toBeGreaterThan(3);
    expect(deferred.rowCount()).toBe(immediate.rowCount());
    expect(deferred.store.indexedKeys).toBe(immediate.store.indexedKeys);
    expect(rows()).toEqual(rangeTuples(immediate.store.range(rangeReq("k", "l"))));
    const rev = deferred.store.currentRevision;
    expect((await hashKV(deferred.store, rev)).hash).toBe((await hashKV(immediate.store, rev)).hash);
    expect(deferred.reopen().pendingCompactionRows).toBe(0);
  }, 60_000);
});
