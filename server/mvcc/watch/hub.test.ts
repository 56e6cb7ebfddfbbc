import { afterEach, describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { WatchCreateRequest_FilterType, WatchResponseSchema } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { putReq, str } from "../testing.ts";
import { HistoryReader } from "./history.ts";
import { fragmentResponse, INVALID_WATCH_ID, WatchErrors } from "./stream.ts";
import { collectEvents, createReq, eventStrings, nextWithin, prefixEnd, WatchFixture } from "./testing.ts";

let fixtures: WatchFixture[] = [];
const fixture = (...args: ConstructorParameters<typeof WatchFixture>) => {
  const f = new WatchFixture(...args);
  fixtures.push(f);
  return f;
};
afterEach(() => {
  for (const f of fixtures) f.cleanup();
  fixtures = [];
});

describe("create and cancel", () => {
  test("created response, then live events of the watched range only", async () => {
    const f = fixture();
    const s = f.stream();
    s.create(createReq("/a/", prefixEnd("/a/")));
    const created = await nextWithin(s);
    expect([created.created, created.watchId, created.header!.revision]).toEqual([true, 0n, 1n]);
    f.put("/a/1", "x");
    f.put("/b/1", "y");
    f.del("/a/1");
    expect((await collectEvents(s, 2)).events).toEqual(["PUT /a/1=x@2", "DELETE /a/1@4"]);
  });

  test("server-assigned IDs count from 0 and skip client-chosen ones; duplicates and empty ranges are refused", async () => {
    const f = fixture();
    const s = f.stream();
    s.create(createReq("a", "", { watchId: 1n }));
    s.create(createReq("a"));
    s.create(createReq("a"));
    s.create(createReq("a", "", { watchId: 1n }));
    s.create(createReq("b", "a"));
    const rs = [];
    for (let i = 0; i < 5; i++) rs.push(await nextWithin(s));
    expect(rs.map((r) => [r.watchId, r.created, r.canceled, r.cancelReason])).toEqual([
      [1n, true, false, ""],
      [0n, true, false, ""],
      [2n, true, false, ""],
      [INVALID_WATCH_ID, true, true, WatchErrors.duplicateId],
      [INVALID_WATCH_ID, true, true, WatchErrors.emptyRange],
    ]);
  });

  test("cancel answers canceled and stops events; unknown IDs are ignored", async () => {
    const f = fixture();
    const s = f.stream();
    s.create(createReq("k"));
    await nextWithin(s);
    s.cancel(7n);
    s.cancel(0n);
    const r = await nextWithin(s);
    expect([r.watchId, r.canceled]).toEqual([0n, true]);
    f.put("k", "v");
    s.create(createReq("other"));
    expect((await nextWithin(s)).created).toBe(true); // nothing for the canceled watcher came first
    expect(f.hub.stats().synced).toBe(1);
  });

  test("filters NOPUT and NODELETE", async () => {
    const f = fixture();
    const s = f.stream();
    s.create(createReq("k", "", { filters: [WatchCreateRequest_FilterType.NOPUT] }));
    s.create(createReq("k", "", { filters: [WatchCreateRequest_FilterType.NODELETE] }));
    await nextWithin(s);
    await nextWithin(s);
    f.put("k", "1");
    f.del("k");
    const a = await nextWithin(s);
    const c = await nextWithin(s);
    expect([a.watchId, eventStrings(a)]).toEqual([1n, ["PUT k=1@2"]]);
    expect([c.watchId, eventStrings(c)]).toEqual([0n, ["DELETE k@3"]]);
  });

  test("prev_kv is filled for updates and deletes, not for creations", async () => {
    const f = fixture();
    const s = f.stream();
    s.create(createReq("k", "", { prevKv: true }));
    await nextWithin(s);
    f.put("k", "1");
    f.put("k", "2");
    f.del("k");
    const rs = [await nextWithin(s), await nextWithin(s), await nextWithin(s)];
    expect(rs.map((r) => (r.events[0]!.prevKv ? str(r.events[0]!.prevKv.value) : null))).toEqual([null, "1", "2"]);
  });
});

describe("start revision", () => {
  test("replays history from start_revision, then goes live without gap or duplicate", async () => {
    const f = fixture({ historyChunkRows: 3 }); // force several catch-up chunks
    for (let i = 1; i <= 10; i++) f.put(`k${i % 3}`, `v${i}`);
    const s = f.stream();
    s.create(createReq("k", prefixEnd("k"), { startRevision: 4n }));
    expect((await nextWithin(s)).created).toBe(true);
    // Writes while the watcher is still catching up.
    for (let i = 11; i <= 14; i++) f.put(`k${i % 3}`, `v${i}`);
    const { events, responses } = await collectEvents(s, 11);
    expect(events.map((e) => Number(e.split("@")[1]))).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    for (const r of responses) expect(Number(r.header!.revision)).toBeGreaterThanOrEqual(Number(r.events.at(-1)!.kv!.modRevision));
    f.put("k1", "live");
    expect(eventStrings(await nextWithin(s))).toEqual(["PUT k1=live@16"]);
    expect(f.hub.stats()).toMatchObject({ synced: 1, unsynced: 0, victims: 0 });
  });

  test("all events of one revision arrive in one response", async () => {
    const f = fixture({ historyChunkRows: 2 });
    for (const k of ["p/a", "p/b", "p/c", "p/d"]) f.put(k, "1");
    f.del("p/", prefixEnd("p/")); // one revision, four deletes
    const s = f.stream();
    s.create(createReq("p/", prefixEnd("p/"), { startRevision: 6n }));
    await nextWithin(s);
    const r = await nextWithin(s);
    expect(eventStrings(r)).toEqual(["DELETE p/a@6", "DELETE p/b@6", "DELETE p/c@6", "DELETE p/d@6"]);
  });

  test("a compacted start revision gets compact_revision and is canceled", async () => {
    const f = fixture();
    for (let i = 0; i < 5; i++) f.put("k", `${i}`);
    f.compact(4);
    const s = f.stream();
    s.create(createReq("k", "", { startRevision: 2n }));
    s.create(createReq("k", "", { startRevision: 4n }));
    await nextWithin(s);
    await nextWithin(s);
    const rs = [await nextWithin(s), await nextWithin(s)];
    const compacted = rs.find((r) => r.watchId === 0n)!;
    expect([compacted.compactRevision, compacted.canceled, compacted.events.length]).toEqual([4n, true, 0]);
    expect(eventStrings(rs.find((r) => r.watchId === 1n)!)).toEqual(["PUT k=2@4", "PUT k=3@5", "PUT k=4@6"]);
    expect(f.hub.stats().synced).toBe(1);
  });

  test("a future start revision waits for it", async () => {
    const f = fixture();
    const s = f.stream();
    s.create(createReq("k", "", { startRevision: 4n }));
    await nextWithin(s);
    f.put("k", "2");
    f.put("k", "3");
    f.put("k", "4");
    expect(eventStrings(await nextWithin(s))).toEqual(["PUT k=4@4"]);
  });
});

test("restore (snapshot installed): synced watchers catch up from the store, none missed", async () => {
  const f = fixture();
  const s = f.stream();
  s.create(createReq("k"));
  await nextWithin(s);
  // Writes that bypass notify, as if they came inside a snapshot.
  for (const v of ["1", "2"]) f.t.db.transaction(() => f.t.store.put(putReq("k", v)))();
  f.hub.restore();
  expect((await collectEvents(s, 2)).events).toEqual(["PUT k=1@2", "PUT k=2@3"]);
  expect(f.hub.stats()).toMatchObject({ synced: 1, unsynced: 0 });
});

test("restore after live events: a synced watcher gets only what it has not seen (found by server/sim seed 2222: events delivered twice after a snapshot)", async () => {
  const f = fixture();
  const s = f.stream();
  s.create(createReq("k"));
  await nextWithin(s);
  f.put("k", "1");
  f.put("k", "2");
  expect((await collectEvents(s, 2)).events).toEqual(["PUT k=1@2", "PUT k=2@3"]);
  // A snapshot brings revisions 4 and 5.
  for (const v of ["3", "4"]) f.t.db.transaction(() => f.t.store.put(putReq("k", v)))();
  f.hub.restore();
  expect((await collectEvents(s, 2)).events).toEqual(["PUT k=3@4", "PUT k=4@5"]);
  f.put("k", "5");
  expect((await collectEvents(s, 1)).events).toEqual(["PUT k=5@6"]);
});

describe("progress", () => {
  test("a progress request answers watch_id -1 with the current revision once all watchers are synced", async () => {
    const f = fixture();
    for (let i = 0; i < 3; i++) f.put("k", `${i}`);
    const s = f.stream();
    s.create(createReq("k", "", { startRevision: 2n }));
    s.requestProgress();
    await nextWithin(s);
    const replay = await nextWithin(s);
    expect(replay.events).toHaveLength(3); // the events come before the progress answer
    const p = await nextWithin(s);
    expect([p.watchId, p.header!.revision, p.events.length]).toEqual([INVALID_WATCH_ID, 4n, 0]);
  });

  test("progress_notify watchers get periodic notices only while idle", async () => {
    const f = fixture();
    const s = f.stream({ progressIntervalMs: 30 });
    s.create(createReq("k", "", { progressNotify: true }));
    s.create(createReq("j"));
    await nextWithin(s);
    await nextWithin(s);
    const p = await nextWithin(s);
    expect([p.watchId, p.events.length, p.header!.revision]).toEqual([0n, 0, 1n]);
  });
});

describe("fragment", () => {
  const event = (i: number) => ({
    $typeName: "mvccpb.Event" as const,
    type: Event_EventType.PUT,
    kv: { $typeName: "mvccpb.KeyValue" as const, key: new Uint8Array(10).fill(65 + i), value: new Uint8Array(100), createRevision: 2n, modRevision: 2n, version: 1n, lease: 0n },
  });

  test("splits large responses, every fragment but the last flagged, each under the limit unless it has one event", () => {
    const wr = create(WatchResponseSchema, { watchId: 3n, events: [0, 1, 2, 3, 4].map(event) });
    const parts = fragmentResponse(wr, 300);
    expect(parts.map((p) => p.events.length)).toEqual([2, 2, 1]);
    expect(parts.map((p) => p.fragment)).toEqual([true, true, false]);
    expect(parts.flatMap((p) => p.events)).toEqual(wr.events);
    expect(parts.every((p) => p.watchId === 3n)).toBe(true);
    expect(fragmentResponse(wr, 10_000)).toEqual([wr]);
    expect(fragmentResponse(create(WatchResponseSchema, { events: [event(0)] }), 10)).toHaveLength(1);
  });

  test("only watchers that asked for fragment get fragments", async () => {
    const f = fixture();
    for (const k of ["p/a", "p/b", "p/c"]) f.put(k, "x".repeat(200));
    f.del("p/", prefixEnd("p/"));
    f.put("p/z", "1");
    const s = f.stream({ maxResponseBytes: 300 });
    s.create(createReq("p/", prefixEnd("p/"), { startRevision: 5n, fragment: true, prevKv: true }));
    await nextWithin(s);
    const parts = [await nextWithin(s), await nextWithin(s), await nextWithin(s)];
    expect(parts.map((p) => [p.events.length, p.fragment])).toEqual([[1, true], [1, true], [2, false]]);
  });
});

describe("slow consumers", () => {
  test("a stream that does not read holds bounded memory, does not hold back others, and later gets everything in order", async () => {
    const f = fixture({ historyChunkRows: 500 });
    const budget = 32 * 1024;
    const slow = f.stream({ bufferBytes: budget });
    const fast = f.stream({ bufferBytes: budget });
    slow.create(createReq("k/", prefixEnd("k/")));
    fast.create(createReq("k/", prefixEnd("k/")));
    await nextWithin(slow);
    await nextWithin(fast);
    const value = "v".repeat(1024);
    const n = 600;
    let fastEvents = 0;
    let maxQueued = 0;
    let sawVictim = false;
    for (let i = 0; i < n; i++) {
      f.put(`k/${i % 50}`, value);
      maxQueued = Math.max(maxQueued, slow.queued.bytes);
      const st = f.hub.stats();
      expect(st.victims).toBeLessThanOrEqual(2);
      expect(st.victimEvents).toBeLessThanOrEqual(1);
      sawVictim ||= st.victims > 0;
      // The fast reader keeps up while the slow one never reads.
      while (fast.queued.responses > 0) fastEvents += (await nextWithin(fast)).events.length;
    }
    expect(fastEvents).toBe(n);
    expect(maxQueued).toBeLessThanOrEqual(budget);
    expect(sawVictim).toBe(true);
    const st = f.hub.stats();
    expect(st.synced + st.unsynced + st.victims).toBe(2);

    // The slow reader now reads: every revision once, in order, caught up from the store.
    const { events } = await collectEvents(slow, n);
    expect(events.map((e) => Number(e.split("@")[1]))).toEqual(Array.from({ length: n }, (_, i) => i + 2));
    f.put("k/live", "1");
    expect(eventStrings(await nextWithin(slow))).toEqual([`PUT k/live=1@${n + 2}`]);
  });
});

describe("HistoryReader", () => {
  test("reads whole revisions, cutting before a revision the row limit would split", () => {
    const f = fixture();
    f.put("a", "1"); // 2
    for (const k of ["b", "c", "d"]) f.put(k, "1"); // 3, 4, 5
    f.del("a", "z"); // 6: four deletes
    const h = new HistoryReader(f.t.db);
    expect(h.read(2, 6, 3)).toMatchObject({ upTo: 4 });
    expect(h.read(2, 6, 3).events).toHaveLength(3);
    const big = h.read(6, 6, 2); // one revision larger than the limit is read whole
    expect([big.upTo, big.events.length]).toEqual([6, 4]);
    expect(h.read(3, 4, 100).events.map((e) => Number(e.kv!.modRevision))).toEqual([3, 4]);
    expect(h.read(7, 6, 100)).toEqual({ events: [], upTo: 6 });
  });
});
