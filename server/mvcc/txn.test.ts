import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import {
  Compare_CompareResult as Result,
  Compare_CompareTarget as Target,
  type Compare,
  type TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../proto/gen/mvccpb/kv_pb.ts";
import type { MvccStoreOptions } from "./store.ts";
import { cmp, deleteReq, kvTuple, putReq, rangeReq, rangeTuples, str, etcdError, tempStores, txnReq } from "./testing.ts";

const open = tempStores();

/** A store with a=1 (lease 5) at rev 2, a=2 at rev 3 (version 2, created 2), b=x at rev 4. */
function seeded(options?: MvccStoreOptions) {
  const t = open(options);
  t.store.put(putReq("a", "1"));
  t.store.put(putReq("a", "2", { lease: 5n }));
  t.store.put(putReq("b", "x"));
  return t;
}

const ok = { case: "requestPut", value: putReq("ok", "1") } as const;


describe("compares", () => {
  // a: version 2, create 2, mod 3, value "2", lease 5
  const cases: [string, Pick<Compare, "target" | "result" | "targetUnion">, boolean][] = [
    ["version =", { target: Target.VERSION, result: Result.EQUAL, targetUnion: { case: "version", value: 2n } }, true],
    ["version !=", { target: Target.VERSION, result: Result.NOT_EQUAL, targetUnion: { case: "version", value: 2n } }, false],
    ["version >", { target: Target.VERSION, result: Result.GREATER, targetUnion: { case: "version", value: 1n } }, true],
    ["version <", { target: Target.VERSION, result: Result.LESS, targetUnion: { case: "version", value: 2n } }, false],
    ["create =", { target: Target.CREATE, result: Result.EQUAL, targetUnion: { case: "createRevision", value: 2n } }, true],
    ["create <", { target: Target.CREATE, result: Result.LESS, targetUnion: { case: "createRevision", value: 3n } }, true],
    ["mod =", { target: Target.MOD, result: Result.EQUAL, targetUnion: { case: "modRevision", value: 3n } }, true],
    ["mod >", { target: Target.MOD, result: Result.GREATER, targetUnion: { case: "modRevision", value: 3n } }, false],
    ["value =", { target: Target.VALUE, result: Result.EQUAL, targetUnion: { case: "value", value: new Uint8Array([0x32]) } }, true],
    ["value >", { target: Target.VALUE, result: Result.GREATER, targetUnion: { case: "value", value: new Uint8Array([0x31]) } }, true],
    ["value <", { target: Target.VALUE, result: Result.LESS, targetUnion: { case: "value", value: new Uint8Array([0x32, 0]) } }, true],
    ["value !=", { target: Target.VALUE, result: Result.NOT_EQUAL, targetUnion: { case: "value", value: new Uint8Array([0x32]) } }, false],
    ["lease =", { target: Target.LEASE, result: Result.EQUAL, targetUnion: { case: "lease", value: 5n } }, true],
    ["lease >", { target: Target.LEASE, result: Result.GREATER, targetUnion: { case: "lease", value: 5n } }, false],
    // The operand counts only when its case matches the target; otherwise it is 0.
    ["mismatched operand", { target: Target.MOD, result: Result.GREATER, targetUnion: { case: "version", value: 100n } }, true],
  ];
  for (const [name, c, want] of cases) {
    test(`${name} on an existing key -> ${want}`, () => {
      const { store } = seeded();
      expect(store.txn(txnReq([cmp("a", c)])).response.succeeded).toBe(want);
    });
  }

  test("a missing key compares as zeros; a VALUE compare on it always fails", () => {
    const { store } = seeded();
    const holds = (c: Pick<Compare, "target" | "result" | "targetUnion">) =>
      store.txn(txnReq([cmp("missing", c)])).response.succeeded;
    expect(holds({ target: Target.VERSION, result: Result.EQUAL, targetUnion: { case: "version", value: 0n } })).toBe(true);
    expect(holds({ target: Target.CREATE, result: Result.EQUAL, targetUnion: { case: "createRevision", value: 0n } })).toBe(true);
    expect(holds({ target: Target.MOD, result: Result.LESS, targetUnion: { case: "modRevision", value: 100n } })).toBe(true);
    expect(holds({ target: Target.LEASE, result: Result.EQUAL, targetUnion: { case: "lease", value: 0n } })).toBe(true);
    expect(holds({ target: Target.VALUE, result: Result.EQUAL, targetUnion: { case: "value", value: new Uint8Array() } })).toBe(false);
    expect(holds({ target: Target.VALUE, result: Result.NOT_EQUAL, targetUnion: { case: "value", value: new Uint8Array() } })).toBe(false);
  });

  test("range_end compares must hold for every key in the interval", () => {
    const { store } = seeded();
    const created = (result: Result, value: bigint, end: string) =>
      store.txn(txnReq([cmp("a", { target: Target.CREATE, result, targetUnion: { case: "createRevision", value } }, end)]))
        .response.succeeded;
    expect(created(Result.LESS, 5n, "c")).toBe(true); // a: 2, b: 4
    expect(created(Result.LESS, 3n, "c")).toBe(false);
    expect(created(Result.GREATER, 0n, "\0")).toBe(true);
    // An empty interval compares a zero KeyValue.
    expect(created(Result.EQUAL, 0n, "a")).toBe(true);
  });

  test("all compares must hold", () => {
    const { store } = seeded();
    const r = store.txn(
      txnReq(
        [
          cmp("a", { target: Target.VERSION, result: Result.EQUAL, targetUnion: { case: "version", value: 2n } }),
          cmp("b", { target: Target.VERSION, result: Result.EQUAL, targetUnion: { case: "version", value: 2n } }),
        ],
        [ok],
        [],
      ),
    );
    expect(r.response.succeeded).toBe(false);
    expect(store.currentRevision).toBe(4);
  });
});

describe("branches and revisions", () => {
  test("success branch: all writes share ONE revision; reads see earlier writes of the txn", () => {
    const { store } = seeded();
    const { response, events } = store.txn(
      txnReq(
        [cmp("a", { target: Target.VALUE, result: Result.EQUAL, targetUnion: { case: "value", value: new Uint8Array([0x32]) } })],
        [
          { case: "requestRange", value: rangeReq("c") },
          { case: "requestPut", value: putReq("c", "1") },
          { case: "requestRange", value: rangeReq("c") },
          { case: "requestDeleteRange", value: deleteReq("a", "", true) },
          { case: "requestRange", value: rangeReq("a", "d") },
          { case: "requestPut", value: putReq("a", "new") },
        ],
      ),
    );
    expect(response.succeeded).toBe(true);
    expect(store.currentRevision).toBe(5);
    const r = response.responses;
    expect(r.map((x) => x.response.case)).toEqual([
      "responseRange",
      "responsePut",
      "responseRange",
      "responseDeleteRange",
      "responseRange",
      "responsePut",
    ]);
    // Nested responses carry a header with only the revision (4 before the first write, then 5).
    expect(r.map((x) => Number(x.response.value!.header!.revision))).toEqual([4, 5, 5, 5, 5, 5]);
    expect(r.map((x) => x.response.value!.header!.clusterId)).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
    expect(rangeTuples(r[0]!.response.value as never)).toEqual([]);
    expect(rangeTuples(r[2]!.response.value as never)).toEqual([["c", "1", 5, 5, 1]]);
    expect(rangeTuples(r[4]!.response.value as never)).toEqual([
      ["b", "x", 4, 4, 1],
      ["c", "1", 5, 5, 1],
    ]);
    // The put after the delete re-creates "a" in the same revision.
    expect(rangeTuples(store.range(rangeReq("a")))).toEqual([["a", "new", 5, 5, 1]]);
    expect(events.map((e) => [e.type, str(e.kv!.key), Number(e.kv!.modRevision)])).toEqual([
      [Event_EventType.PUT, "c", 5],
      [Event_EventType.DELETE, "a", 5],
      [Event_EventType.PUT, "a", 5],
    ]);
    // History of the txn's revision shows the final state; the previous revision the old one.
    expect(rangeTuples(store.range(rangeReq("a", "", { revision: 4n })))).toEqual([["a", "2", 2, 3, 2]]);
  });

  test("failure branch runs when a compare fails", () => {
    const { store } = seeded();
    const { response } = store.txn(
      txnReq(
        [cmp("a", { target: Target.VERSION, result: Result.EQUAL, targetUnion: { case: "version", value: 9n } })],
        [ok],
        [{ case: "requestPut", value: putReq("failed", "1") }],
      ),
    );
    expect(response.succeeded).toBe(false);
    expect(response.responses.map((x) => x.response.case)).toEqual(["responsePut"]);
    expect(store.range(rangeReq("ok")).count).toBe(0n);
    expect(store.range(rangeReq("failed")).count).toBe(1n);
  });

  test("a txn whose chosen branch writes nothing does not advance the revision", () => {
    const { store } = seeded();
    const { response, events } = store.txn(
      txnReq([], [{ case: "requestRange", value: rangeReq("a") }, { case: "requestDeleteRange", value: deleteReq("zz") }], [ok]),
    );
    expect(response.succeeded).toBe(true);
    expect(events).toEqual([]);
    expect(store.currentRevision).toBe(4);
    expect(response.responses.map((x) => Number(x.response.value!.header!.revision))).toEqual([4, 4]);
    expect(store.txn(txnReq([])).response.succeeded).toBe(true);
    expect(store.currentRevision).toBe(4);
  });

  test("nested txns: own branch choice, compares read the state before the outer txn", () => {
    const { store } = seeded();
    const inner = txnReq(
      // "c" is put by the outer txn first, but nested compares see the pre-txn state.
      [cmp("c", { target: Target.VERSION, result: Result.EQUAL, targetUnion: { case: "version", value: 0n } })],
      [{ case: "requestPut", value: putReq("inner", "success") }, { case: "requestRange", value: rangeReq("c") }],
      [{ case: "requestPut", value: putReq("inner", "failure") }],
    );
    const innerFail = txnReq(
      [cmp("a", { target: Target.VERSION, result: Result.EQUAL, targetUnion: { case: "version", value: 7n } })],
      [],
      [{ case: "requestRange", value: rangeReq("inner") }],
    );
    const { response } = store.txn(
      txnReq(
        [],
        [
          { case: "requestPut", value: putReq("c", "1") },
          { case: "requestTxn", value: inner },
          { case: "requestTxn", value: innerFail },
        ],
      ),
    );
    expect(store.currentRevision).toBe(5);
    const [, t1, t2] = response.responses.map((x) => x.response.value) as [unknown, TxnResponse, TxnResponse];
    expect(t1.succeeded).toBe(true);
    expect(t2.succeeded).toBe(false);
    // Nested txn responses get an empty header, as etcd sends.
    expect(t1.header?.revision).toBe(0n);
    expect(rangeTuples(t1.responses[1]!.response.value as never)).toEqual([["c", "1", 5, 5, 1]]);
    expect(rangeTuples(t2.responses[0]!.response.value as never)).toEqual([["inner", "success", 5, 5, 1]]);
  });
});

describe("txn errors (checked before anything is written)", () => {
  test("ignore_value on a key missing before the txn: KeyNotFound", () => {
    const { store } = seeded();
    const req = txnReq([], [ok, { case: "requestPut", value: putReq("nope", "", { ignoreValue: true }) }]);
    expect(etcdError(() => store.txn(req))).toEqual([Code.InvalidArgument, "etcdserver: key not found"]);
    expect(store.currentRevision).toBe(4);
    expect(store.range(rangeReq("ok")).count).toBe(0n);
  });

  test("only the chosen branch is checked", () => {
    const { store } = seeded();
    const bad = { case: "requestPut", value: putReq("nope", "", { ignoreLease: true }) } as const;
    expect(store.txn(txnReq([], [ok], [bad])).response.succeeded).toBe(true);
    expect(store.range(rangeReq("ok")).count).toBe(1n);
  });

  test("unknown lease with a lease checker: LeaseNotFound", () => {
    const { store } = seeded({ leaseExists: (id) => id === 5n });
    const req = txnReq([], [{ case: "requestPut", value: putReq("l", "1", { lease: 77n }) }]);
    expect(etcdError(() => store.txn(req))).toEqual([Code.NotFound, "etcdserver: requested lease not found"]);
  });

  test("a range at a future revision: FutureRev, even after writes of the same txn", () => {
    const { store } = seeded();
    const req = txnReq([], [ok, { case: "requestRange", value: rangeReq("ok", "", { revision: 5n }) }]);
    expect(etcdError(() => store.txn(req))).toEqual([
      Code.OutOfRange,
      "etcdserver: mvcc: required revision is a future revision",
    ]);
    expect(store.currentRevision).toBe(4);
  });

  test("a range below the compact revision (or negative, once compacted): Compacted", () => {
    const { store } = seeded();
    // Never compacted: a negative revision reads the current state.
    expect(store.txn(txnReq([], [{ case: "requestRange", value: rangeReq("a", "", { revision: -1n }) }])).response.succeeded).toBe(true);
    store.compact(3);
    for (const revision of [2n, -1n]) {
      const req = txnReq([], [ok, { case: "requestRange", value: rangeReq("a", "", { revision }) }]);
      expect(etcdError(() => store.txn(req))).toEqual([
        Code.OutOfRange,
        "etcdserver: mvcc: required revision has been compacted",
      ]);
    }
    const atCompacted = store.txn(txnReq([], [{ case: "requestRange", value: rangeReq("a", "", { revision: 3n }) }]));
    expect(kvTuple((atCompacted.response.responses[0]!.response.value as never as { kvs: never[] }).kvs[0]!)).toEqual([
      "a",
      "2",
      2,
      3,
      2,
    ]);
  });
});
