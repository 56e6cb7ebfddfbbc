import { describe, expect, test } from "bun:test";
import { Event_EventType, type Event } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { keyInterval } from "../keys.ts";
import { b } from "../testing.ts";
import { WatcherGroup } from "./watcher-group.ts";
import { EventBatch, Watcher, WATCH_BATCH_MAX_REVS, type WatchSink } from "./watcher.ts";

const sink: WatchSink = { deliver: () => true };
const watcher = (id: number, key: string, end = "", minRev = 1) => new Watcher(BigInt(id), keyInterval(b(key), b(end)), minRev, [], sink);
const put = (key: string, rev: number): Event => ({
  $typeName: "mvccpb.Event",
  type: Event_EventType.PUT,
  kv: { $typeName: "mvccpb.KeyValue", key: b(key), value: b("v"), createRevision: BigInt(rev), modRevision: BigInt(rev), version: 1n, lease: 0n },
});
const ids = (g: WatcherGroup, key: string) => {
  const out: number[] = [];
  g.forEachWatching(key, (w) => out.push(Number(w.id)));
  return out.sort((x, y) => x - y);
};

describe("WatcherGroup", () => {
  test("finds single-key, range, prefix and from-key watchers of a key", () => {
    const g = new WatcherGroup();
    g.add(watcher(1, "a"));
    g.add(watcher(2, "a", "c"));
    g.add(watcher(3, "b", "c"));
    g.add(watcher(4, "b", "\0")); // from-key
    g.add(watcher(5, "a", "c")); // same range as 2: shares the entry
    expect(ids(g, "a")).toEqual([1, 2, 5]);
    expect(ids(g, "b")).toEqual([2, 3, 4, 5]);
    expect(ids(g, "c")).toEqual([4]); // range end is exclusive
    expect(ids(g, "zzz")).toEqual([4]);
    expect(ids(g, "")).toEqual([]);
  });

  test("delete removes from the indexes; deleting twice reports false", () => {
    const g = new WatcherGroup();
    const w1 = watcher(1, "a");
    const w2 = watcher(2, "a", "b");
    g.add(w1);
    g.add(w2);
    expect(g.delete(w1)).toBe(true);
    expect(g.delete(w1)).toBe(false);
    expect(g.delete(w2)).toBe(true);
    expect(ids(g, "a")).toEqual([]);
    expect(g.size).toBe(0);
  });

  test("batch gives each watcher the events at or after its minRev, per watcher", () => {
    const g = new WatcherGroup();
    const early = watcher(1, "k", "", 2);
    const late = watcher(2, "k", "", 4);
    const other = watcher(3, "x");
    for (const w of [early, late, other]) g.add(w);
    const wb = g.batch([put("k", 2), put("k", 3), put("k", 4)]);
    expect(wb.get(early)!.events.map((e) => Number(e.kv!.modRevision))).toEqual([2, 3, 4]);
    expect(wb.get(late)!.events.map((e) => Number(e.kv!.modRevision))).toEqual([4]);
    expect(wb.has(other)).toBe(false);
  });

  test("an event batch stops after WATCH_BATCH_MAX_REVS revisions and records the next one", () => {
    const eb = new EventBatch();
    for (let rev = 1; rev <= WATCH_BATCH_MAX_REVS + 5; rev++) eb.add(put("k", rev));
    expect(eb.events).toHaveLength(WATCH_BATCH_MAX_REVS);
    expect(eb.moreRev).toBe(WATCH_BATCH_MAX_REVS + 1);
  });
});
