import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { RangeRequest_SortOrder as Order, RangeRequest_SortTarget as Target } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { MvccStore } from "./store.ts";
import { deleteReq, putReq, rangeReq, str, TempStore } from "./testing.ts";

let t: TempStore;
let store: MvccStore;

// Same history as the etcd 3.4.23 session these expectations were taken from:
// rev 2 k1=c, 3 k2=b, 4 k3=a, 5 k1=cc, 6 other=o, 7 k4=d (deleted at 8), 9 k2=bb
beforeAll(() => {
  t = new TempStore();
  store = t.store;
  store.put(putReq("k1", "c"));
  store.put(putReq("k2", "b"));
  store.put(putReq("k3", "a"));
  store.put(putReq("k1", "cc"));
  store.put(putReq("other", "o"));
  store.put(putReq("k4", "d"));
  store.deleteRange(deleteReq("k4"));
  store.put(putReq("k2", "bb"));
});
afterAll(() => t.cleanup());

const keys = (r: { kvs: { key: Uint8Array }[] }) => r.kvs.map((kv) => str(kv.key));

describe("range intervals", () => {
  test("single key, missing key", () => {
    expect(keys(store.range(rangeReq("k1")))).toEqual(["k1"]);
    expect(store.range(rangeReq("k")).count).toBe(0n);
  });

  test("[key, range_end) and prefix end", () => {
    expect(keys(store.range(rangeReq("k", "l")))).toEqual(["k1", "k2", "k3"]);
    expect(keys(store.range(rangeReq("k2", "k3")))).toEqual(["k2"]);
  });

  test('range_end "\\0" means every key >= key; key "\\0" with it means everything', () => {
    expect(keys(store.range(rangeReq("k2", "\0")))).toEqual(["k2", "k3", "other"]);
    expect(keys(store.range(rangeReq("\0", "\0")))).toEqual(["k1", "k2", "k3", "other"]);
  });

  test("range_end <= key matches nothing", () => {
    expect(store.range(rangeReq("l", "k")).kvs).toEqual([]);
    expect(store.range(rangeReq("k1", "k1")).count).toBe(0n);
  });
});

describe("limit, more, count", () => {
  test("count is the total; more when limit cut the answer", () => {
    const r = store.range(rangeReq("k", "l", { limit: 2n }));
    expect(keys(r)).toEqual(["k1", "k2"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(3n);
    const all = store.range(rangeReq("k", "l", { limit: 3n }));
    expect(all.more).toBe(false);
    expect(all.count).toBe(3n);
  });

  test("count_only answers the count and no kvs, ignoring revision filters", () => {
    const r = store.range(rangeReq("k", "l", { countOnly: true, minModRevision: 6n }));
    expect(r.kvs).toEqual([]);
    expect(r.count).toBe(3n);
    expect(r.more).toBe(false);
  });

  test("keys_only drops values", () => {
    const r = store.range(rangeReq("k", "l", { keysOnly: true, limit: 3n }));
    expect(r.kvs.map((kv) => [str(kv.key), str(kv.value), Number(kv.modRevision)])).toEqual([
      ["k1", "", 5],
      ["k2", "", 9],
      ["k3", "", 4],
    ]);
  });
});

describe("sort", () => {
  const sorted = (order: Order, target: Target, limit = 0n) =>
    keys(store.range(rangeReq("k", "l", { sortOrder: order, sortTarget: target, limit })));

  test("KEY: NONE and ASCEND ascending, DESCEND descending", () => {
    expect(sorted(Order.NONE, Target.KEY)).toEqual(["k1", "k2", "k3"]);
    expect(sorted(Order.ASCEND, Target.KEY)).toEqual(["k1", "k2", "k3"]);
    expect(sorted(Order.DESCEND, Target.KEY)).toEqual(["k3", "k2", "k1"]);
  });

  test("VALUE, CREATE, MOD, VERSION in both orders", () => {
    expect(sorted(Order.ASCEND, Target.VALUE)).toEqual(["k3", "k2", "k1"]); // a, bb, cc
    expect(sorted(Order.DESCEND, Target.VALUE)).toEqual(["k1", "k2", "k3"]);
    expect(sorted(Order.ASCEND, Target.CREATE)).toEqual(["k1", "k2", "k3"]); // 2, 3, 4
    expect(sorted(Order.DESCEND, Target.CREATE)).toEqual(["k3", "k2", "k1"]);
    expect(sorted(Order.ASCEND, Target.MOD)).toEqual(["k3", "k1", "k2"]); // 4, 5, 9
    expect(sorted(Order.DESCEND, Target.MOD)).toEqual(["k2", "k1", "k3"]);
  });

  test("ties keep ascending key order", () => {
    expect(sorted(Order.ASCEND, Target.VERSION)).toEqual(["k3", "k1", "k2"]); // 1, 2, 2
    expect(sorted(Order.DESCEND, Target.VERSION)).toEqual(["k1", "k2", "k3"]);
  });

  test("order NONE with a non-KEY target sorts ascending (etcd's rule)", () => {
    expect(sorted(Order.NONE, Target.VALUE)).toEqual(["k3", "k2", "k1"]);
    expect(sorted(Order.NONE, Target.MOD)).toEqual(["k3", "k1", "k2"]);
  });

  test("with a sort order, limit applies after sorting all matches", () => {
    const r = store.range(rangeReq("\0", "\0", { sortOrder: Order.DESCEND, sortTarget: Target.KEY, limit: 2n }));
    expect(keys(r)).toEqual(["other", "k3"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(4n);
  });

  test("order NONE + non-KEY target + limit sorts only the first limit+1 keys (etcd quirk)", () => {
    // Values by key: k1=cc, k2=bb, k3=a, other=o. With limit 1 etcd reads k1, k2 only.
    const r = store.range(rangeReq("\0", "\0", { sortTarget: Target.VALUE, limit: 1n }));
    expect(keys(r)).toEqual(["k2"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(4n);
  });
});

describe("revision filters", () => {
  test("min/max mod revision", () => {
    expect(keys(store.range(rangeReq("k", "l", { minModRevision: 5n })))).toEqual(["k1", "k2"]);
    expect(keys(store.range(rangeReq("k", "l", { maxModRevision: 5n })))).toEqual(["k1", "k3"]);
    expect(keys(store.range(rangeReq("k", "l", { minModRevision: 5n, maxModRevision: 5n })))).toEqual(["k1"]);
  });

  test("min/max create revision", () => {
    expect(keys(store.range(rangeReq("k", "l", { minCreateRevision: 3n })))).toEqual(["k2", "k3"]);
    expect(keys(store.range(rangeReq("k", "l", { maxCreateRevision: 3n })))).toEqual(["k1", "k2"]);
  });

  test("count stays the number of matches before filters; limit and more apply after", () => {
    const r = store.range(rangeReq("k", "l", { minModRevision: 5n, limit: 1n }));
    expect(keys(r)).toEqual(["k1"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(3n);
  });
});

describe("revision", () => {
  test("historical range; deleted keys appear before their deletion", () => {
    expect(keys(store.range(rangeReq("k", "l", { revision: 7n })))).toEqual(["k1", "k2", "k3", "k4"]);
    expect(keys(store.range(rangeReq("k", "l", { revision: 8n })))).toEqual(["k1", "k2", "k3"]);
    const r = store.range(rangeReq("k1", "", { revision: 4n }));
    expect(r.kvs.map((kv) => [str(kv.value), Number(kv.version)])).toEqual([["c", 1]]);
  });

  test("a future revision fails with FutureRev", () => {
    try {
      store.range(rangeReq("k1", "", { revision: 10n }));
      throw new Error("no error");
    } catch (err) {
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.OutOfRange);
      expect((err as ConnectError).rawMessage).toBe("etcdserver: mvcc: required revision is a future revision");
    }
    expect(keys(store.range(rangeReq("k1", "", { revision: 9n })))).toEqual(["k1"]);
  });
});
