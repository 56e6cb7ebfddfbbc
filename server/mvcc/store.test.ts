import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { Event_EventType } from "../../proto/gen/mvccpb/kv_pb.ts";
import { b, deleteReq, kvTuple, putReq, rangeReq, rangeTuples, str, etcdError, tempStores, txnReq } from "./testing.ts";

const open = tempStores();


describe("put", () => {
  test("an empty store is at revision 1, never compacted", () => {
    const { store } = open();
    expect(store.currentRevision).toBe(1);
    expect(store.compactRevision).toBe(0);
    expect(store.range(rangeReq("a")).kvs).toEqual([]);
  });

  test("each put takes the next revision; version grows and create_revision stays", () => {
    const { store } = open();
    store.put(putReq("a", "1"));
    store.put(putReq("b", "x"));
    store.put(putReq("a", "2"));
    expect(store.currentRevision).toBe(4);
    expect(rangeTuples(store.range(rangeReq("a")))).toEqual([["a", "2", 2, 4, 2]]);
    expect(rangeTuples(store.range(rangeReq("b")))).toEqual([["b", "x", 3, 3, 1]]);
  });

  test("events: one PUT with the new KeyValue", () => {
    const { store } = open();
    const { events, response } = store.put(putReq("a", "1", { lease: 0x694d7a3b4c5d6e7fn }));
    expect(response.header).toBeUndefined();
    expect(events.length).toBe(1);
    expect(events[0]!.type).toBe(Event_EventType.PUT);
    expect(kvTuple(events[0]!.kv!)).toEqual(["a", "1", 2, 2, 1]);
    expect(events[0]!.kv!.lease).toBe(0x694d7a3b4c5d6e7fn);
  });

  test("prev_kv answers the previous KeyValue, none for a new key", () => {
    const { store } = open();
    expect(store.put(putReq("a", "1", { prevKv: true })).response.prevKv).toBeUndefined();
    const r = store.put(putReq("a", "2", { prevKv: true })).response;
    expect(kvTuple(r.prevKv!)).toEqual(["a", "1", 2, 2, 1]);
  });

  test("lease is stored (int64, all bits) and replaced by a put without one", () => {
    const { store } = open();
    store.put(putReq("a", "1", { lease: 0x7fffffffffffffffn }));
    expect(store.range(rangeReq("a")).kvs[0]!.lease).toBe(0x7fffffffffffffffn);
    store.put(putReq("a", "2"));
    expect(store.range(rangeReq("a")).kvs[0]!.lease).toBe(0n);
  });

  test("ignore_value keeps the value, ignore_lease keeps the lease", () => {
    const { store } = open();
    store.put(putReq("a", "1", { lease: 5n }));
    store.put(putReq("a", "", { ignoreValue: true, lease: 6n }));
    expect(kvTuple(store.range(rangeReq("a")).kvs[0]!)).toEqual(["a", "1", 2, 3, 2]);
    expect(store.range(rangeReq("a")).kvs[0]!.lease).toBe(6n);
    store.put(putReq("a", "2", { ignoreLease: true }));
    expect(kvTuple(store.range(rangeReq("a")).kvs[0]!)).toEqual(["a", "2", 2, 4, 3]);
    expect(store.range(rangeReq("a")).kvs[0]!.lease).toBe(6n);
  });

  test("ignore_value / ignore_lease on a missing key: KeyNotFound, nothing written", () => {
    const { store } = open();
    expect(etcdError(() => store.put(putReq("a", "", { ignoreValue: true })))).toEqual([
      Code.InvalidArgument,
      "etcdserver: key not found",
    ]);
    expect(etcdError(() => store.put(putReq("a", "", { ignoreLease: true })))[1]).toBe("etcdserver: key not found");
    expect(store.currentRevision).toBe(1);
  });

  test("with a lease checker, an unknown lease is LeaseNotFound and nothing is written", () => {
    const { store } = open({ leaseExists: (id) => id === 7n });
    expect(etcdError(() => store.put(putReq("a", "1", { lease: 8n })))).toEqual([
      Code.NotFound,
      "etcdserver: requested lease not found",
    ]);
    expect(store.currentRevision).toBe(1);
    store.put(putReq("a", "1", { lease: 7n }));
    expect(store.currentRevision).toBe(2);
  });
});

describe("deleteRange", () => {
  test("writes a tombstone; a re-put starts a new generation (version 1, new create_revision)", () => {
    const { store } = open();
    store.put(putReq("a", "1"));
    store.put(putReq("a", "2"));
    const { response, events } = store.deleteRange(deleteReq("a"));
    expect(response.deleted).toBe(1n);
    expect(store.currentRevision).toBe(4);
    expect(events.map((e) => [e.type, str(e.kv!.key), Number(e.kv!.modRevision), Number(e.kv!.version)])).toEqual([
      [Event_EventType.DELETE, "a", 4, 0],
    ]);
    expect(store.range(rangeReq("a")).kvs).toEqual([]);
    store.put(putReq("a", "3"));
    expect(rangeTuples(store.range(rangeReq("a")))).toEqual([["a", "3", 5, 5, 1]]);
  });

  test("deleting nothing does not advance the revision", () => {
    const { store } = open();
    store.put(putReq("a", "1"));
    const { response, events } = store.deleteRange(deleteReq("zz"));
    expect(response.deleted).toBe(0n);
    expect(events).toEqual([]);
    expect(store.currentRevision).toBe(2);
    store.deleteRange(deleteReq("a"));
    store.deleteRange(deleteReq("a"));
    expect(store.currentRevision).toBe(3);
  });

  test("a range delete tombstones every live key at ONE revision, with prev_kvs", () => {
    const { store } = open();
    for (const k of ["a", "b", "c", "d"]) store.put(putReq(k, k));
    store.deleteRange(deleteReq("b"));
    const { response, events } = store.deleteRange(deleteReq("a", "d", true));
    expect(response.deleted).toBe(2n);
    expect(response.prevKvs.map(kvTuple)).toEqual([
      ["a", "a", 2, 2, 1],
      ["c", "c", 4, 4, 1],
    ]);
    expect(events.map((e) => [str(e.kv!.key), Number(e.kv!.modRevision)])).toEqual([
      ["a", 7],
      ["c", 7],
    ]);
    expect(store.currentRevision).toBe(7);
    expect(rangeTuples(store.range(rangeReq("\0", "\0")))).toEqual([["d", "d", 5, 5, 1]]);
  });

  test('range_end "\\0" deletes every key >= key', () => {
    const { store } = open();
    for (const k of ["a", "b", "c"]) store.put(putReq(k, k));
    expect(store.deleteRange(deleteReq("b", "\0")).response.deleted).toBe(2n);
    expect(store.range(rangeReq("\0", "\0")).kvs.map((kv) => str(kv.key))).toEqual(["a"]);
  });
});

describe("history", () => {
  test("ranges at past revisions see the values of the time, deleted keys included", () => {
    const { store } = open();
    store.put(putReq("a", "1")); // 2
    store.put(putReq("a", "2")); // 3
    store.deleteRange(deleteReq("a")); // 4
    store.put(putReq("a", "3")); // 5
    const at = (rev: number) => rangeTuples(store.range(rangeReq("a", "", { revision: BigInt(rev) })));
    expect(at(1)).toEqual([]);
    expect(at(2)).toEqual([["a", "1", 2, 2, 1]]);
    expect(at(3)).toEqual([["a", "2", 2, 3, 2]]);
    expect(at(4)).toEqual([]);
    expect(at(5)).toEqual([["a", "3", 5, 5, 1]]);
    expect(at(0)).toEqual([["a", "3", 5, 5, 1]]);
    expect(at(-3)).toEqual([["a", "3", 5, 5, 1]]);
  });
});

describe("keys are bytes", () => {
  test("keys order bytewise (0x80..0xff after ASCII) and round-trip exactly", () => {
    const { store } = open();
    for (const k of ["\xff", "\x80\x00", "a", "\x00z", "a\x00"]) store.put(putReq(k, "v"));
    expect(store.range(rangeReq("\0", "\0")).kvs.map((kv) => str(kv.key))).toEqual([
      "\x00z",
      "a",
      "a\x00",
      "\x80\x00",
      "\xff",
    ]);
    expect(store.range(rangeReq("\x80", "\xff")).kvs.map((kv) => str(kv.key))).toEqual(["\x80\x00"]);
    expect(store.range(rangeReq("a\x00")).kvs.map((kv) => [...kv.key])).toEqual([[0x61, 0]]);
  });

  test("long keys and large values", () => {
    const { store } = open();
    const key = "k".repeat(3000) + "\xfe";
    const value = "v".repeat(200_000);
    store.put(putReq(key, value));
    const kv = store.range(rangeReq(key)).kvs[0]!;
    expect(str(kv.key)).toBe(key);
    expect(kv.value.length).toBe(200_000);
  });
});

describe("restore", () => {
  test("reopening restores index, history and revision; writes continue from there", () => {
    const t = open();
    t.store.put(putReq("a", "1", { lease: 0x694d7a3b4c5d6e7fn })); // 2
    t.store.put(putReq("b", "1", { lease: 9n })); // 3
    t.store.put(putReq("a", "2", { lease: 0x694d7a3b4c5d6e7fn })); // 4
    t.store.deleteRange(deleteReq("b")); // 5
    t.store.put(putReq("c", "1", { lease: 3n })); // 6
    t.store.put(putReq("c", "2")); // 7
    const store = t.reopen();
    expect(store.currentRevision).toBe(7);
    expect(rangeTuples(store.range(rangeReq("\0", "\0")))).toEqual([
      ["a", "2", 2, 4, 2],
      ["c", "2", 6, 7, 2],
    ]);
    expect(rangeTuples(store.range(rangeReq("b", "", { revision: 4n })))).toEqual([["b", "1", 3, 3, 1]]);
    expect(store.leaseAttachmentsAtOpen().map((a) => [str(a.key), a.lease])).toEqual([["a", 0x694d7a3b4c5d6e7fn]]);
    store.put(putReq("a", "3"));
    expect(rangeTuples(store.range(rangeReq("a")))).toEqual([["a", "3", 2, 8, 3]]);
    store.put(putReq("b", "2"));
    expect(rangeTuples(store.range(rangeReq("b")))).toEqual([["b", "2", 9, 9, 1]]);
  });

  test("the live-value cache: values of up to 4 KiB from writes; up to 64 KiB only once read, within 16 MiB", () => {
    const t = open();
    const internals = t.store as unknown as { cachedBytes: number; cachedLargeBytes: number };
    const small = "s".repeat(4096);
    const large = "l".repeat(4097);
    t.store.put(putReq("small", small));
    t.store.put(putReq("large", large));
    t.store.put(putReq("huge", "h".repeat(64 * 1024 + 1)));
    expect([internals.cachedBytes, internals.cachedLargeBytes]).toEqual([4096 + 128, 0]);
    expect(rangeTuples(t.store.range(rangeReq("large")))).toEqual([["large", large, 3, 3, 1]]);
    expect(rangeTuples(t.store.range(rangeReq("small")))).toEqual([["small", small, 2, 2, 1]]);
    expect(t.store.range(rangeReq("huge")).kvs[0]!.value.length).toBe(64 * 1024 + 1);
    expect([internals.cachedBytes, internals.cachedLargeBytes]).toEqual([4096 + 128 + 4097 + 128, 4097 + 128]);
    t.store.put(putReq("large", "m".repeat(5000)));
    expect([internals.cachedBytes, internals.cachedLargeBytes]).toEqual([4096 + 128, 0]);
    expect(rangeTuples(t.store.range(rangeReq("large")))).toEqual([["large", "m".repeat(5000), 3, 5, 2]]);
    const value = "v".repeat(64 * 1024);
    for (let i = 0; i < 300; i++) t.store.put(putReq(`big/${String(i).padStart(3, "0")}`, value));
    expect(t.store.range(rangeReq("big/", "big0")).kvs.length).toBe(300);
    expect(internals.cachedLargeBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(internals.cachedLargeBytes).toBeGreaterThan(15 * 1024 * 1024);
    expect(internals.cachedBytes).toBe(4096 + 128 + internals.cachedLargeBytes);
  });

  test("reads are the same with the live-value cache disabled", () => {
    const t = open({ cacheBytes: 0 });
    t.store.put(putReq("a", "1"));
    t.store.put(putReq("a", "2"));
    t.store.put(putReq("b", "1"));
    expect(rangeTuples(t.store.range(rangeReq("\0", "\0")))).toEqual([
      ["a", "2", 2, 3, 2],
      ["b", "1", 4, 4, 1],
    ]);
  });
});

describe("returned values are copies", () => {
  test("changing a returned KeyValue does not change the store", () => {
    const { store } = open();
    store.put(putReq("a", "1"));
    const kv = store.range(rangeReq("a")).kvs[0]!;
    kv.value = b("zzz");
    kv.version = 99n;
    expect(kvTuple(store.range(rangeReq("a")).kvs[0]!)).toEqual(["a", "1", 2, 2, 1]);
    const kv2 = store.range(rangeReq("a", "", { keysOnly: true })).kvs[0]!;
    expect(kv2.value.length).toBe(0);
    expect(kvTuple(store.range(rangeReq("a")).kvs[0]!)).toEqual(["a", "1", 2, 2, 1]);
  });
});

describe("SQLite failures mid-write", () => {
  test("a failing row insert undoes the whole txn in memory and on disk", () => {
    const t = open();
    t.store.put(putReq("a", "1"));
    t.db.run(`CREATE TRIGGER fail_boom BEFORE INSERT ON kv WHEN NEW.key = X'626f6f6d' BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    const rows = t.rowCount();
    const req = txnReq(
      [],
      [
        { case: "requestPut", value: putReq("a", "2") },
        { case: "requestPut", value: putReq("new", "x") },
        { case: "requestDeleteRange", value: deleteReq("a") },
        { case: "requestPut", value: putReq("boom", "x") },
      ],
    );
    expect(() => t.store.txn(req)).toThrow("boom");
    expect(t.store.currentRevision).toBe(2);
    expect(t.rowCount()).toBe(rows);
    expect(rangeTuples(t.store.range(rangeReq("\0", "\0")))).toEqual([["a", "1", 2, 2, 1]]);
    expect(t.store.indexedKeys).toBe(1);
    t.store.put(putReq("a", "3"));
    expect(rangeTuples(t.store.range(rangeReq("a")))).toEqual([["a", "3", 2, 3, 2]]);
    expect(rangeTuples(t.reopen().range(rangeReq("\0", "\0")))).toEqual([["a", "3", 2, 3, 2]]);
  });

  test("works inside the caller's transaction (savepoints nest)", () => {
    const t = open();
    t.db.transaction(() => {
      t.store.put(putReq("a", "1"));
      t.store.txn(txnReq([], [{ case: "requestPut", value: putReq("b", "1") }]));
      t.store.deleteRange(deleteReq("a"));
    })();
    expect(t.store.currentRevision).toBe(4);
    expect(rangeTuples(t.reopen().range(rangeReq("\0", "\0")))).toEqual([["b", "1", 3, 3, 1]]);
  });
});
