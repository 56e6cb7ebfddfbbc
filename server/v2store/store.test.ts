/**
 * The v2 store alone (etcd's v2store/store_test.go cases, rewritten): actions and their events,
 * errors with etcd's codes, causes and indexes, TTL expiry at a given time, the watcher hub and
 * its 1000-event history, and persistence through the v2_* tables.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { createSchema } from "../storage/schema.ts";
import { V2Error } from "./errors.ts";
import { eventJson, nodeJson, rfc3339Nano } from "./event.ts";
import { V2Store } from "./store.ts";
import { V2Tables } from "./tables.ts";
import { cleanPath } from "./path.ts";

const T0 = Date.UTC(2026, 0, 1);
const NONE = { expireMs: 0 };

function store(now = () => T0, persist?: V2Tables): V2Store {
  return new V2Store(now, persist);
}

function error(fn: () => unknown): V2Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof V2Error) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("actions", () => {
  test("set, get, update, compare-and-swap and delete give etcd's events", () => {
    const s = store();
    expect(eventJson(s.set("/foo", false, "bar", NONE))).toBe('{"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":1,"createdIndex":1}}');
    expect(eventJson(s.set("/foo", false, "baz", NONE))).toBe(
      '{"action":"set","node":{"key":"/foo","value":"baz","modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/foo","value":"bar","modifiedIndex":1,"createdIndex":1}}',
    );
    expect(eventJson(s.update("/foo", "u", NONE))).toBe(
      '{"action":"update","node":{"key":"/foo","value":"u","modifiedIndex":3,"createdIndex":2},"prevNode":{"key":"/foo","value":"baz","modifiedIndex":2,"createdIndex":2}}',
    );
    expect(s.compareAndSwap("/foo", "u", 0, "c", NONE).node.modifiedIndex).toBe(4);
    expect(eventJson(s.get("/", false, false))).toBe('{"action":"get","node":{"dir":true,"nodes":[{"key":"/foo","value":"c","modifiedIndex":4,"createdIndex":2}]}}');
    expect(s.delete("/foo", false, false).action).toBe("delete");
    expect(s.index).toBe(5);
  });

  test("errors carry etcd's code, cause and the store index", () => {
    const s = store();
    s.set("/file", false, "v", NONE);
    expect(error(() => s.get("/nope", false, false)).toJSON()).toEqual({ errorCode: 100, message: "Key not found", cause: "/nope", index: 1 });
    expect(error(() => s.create("/file", false, "v", false, NONE)).toJSON()).toEqual({ errorCode: 105, message: "Key already exists", cause: "/file", index: 1 });
    expect(error(() => s.set("/file/x", false, "v", NONE)).toJSON()).toEqual({ errorCode: 104, message: "Not a directory", cause: "/file", index: 1 });
    expect(error(() => s.compareAndSwap("/file", "w", 0, "x", NONE)).cause).toBe("[w != v]");
    expect(error(() => s.compareAndSwap("/file", "", 7, "x", NONE)).cause).toBe("[7 != 1]");
    expect(error(() => s.compareAndSwap("/file", "w", 7, "x", NONE)).cause).toBe("[w != v] [7 != 1]");
    expect(error(() => s.delete("/", true, true)).toJSON()).toEqual({ errorCode: 107, message: "Root is read only", cause: "/", index: 1 });
    s.set("/d/x", false, "1", NONE);
    expect(error(() => s.delete("/d", false, false)).errorCode).toBe(102);
    expect(error(() => s.delete("/d", true, false)).errorCode).toBe(108);
    expect(error(() => s.set("/d", false, "v", NONE)).errorCode).toBe(102);
    expect(error(() => s.compareAndDelete("/", "x", 0)).toJSON()).toEqual({ errorCode: 102, message: "Not a file", index: 2 });
    expect(error(() => s.delete("/d", true, false)).status).toBe(403);
    expect(s.delete("/d", false, true).node.dir).toBe(true);
  });

  test("in-order keys, hidden keys and sorted listings", () => {
    const s = store();
    const a = s.create("/q", false, "a", true, NONE);
    expect(a.node.key).toBe("/q/00000000000000000001");
    s.create("/q", false, "b", true, NONE);
    s.set("/q/_h", false, "h", NONE);
    const listed = s.get("/q", true, true).node.nodes!.map((n) => n.key);
    expect(listed).toEqual(["/q/00000000000000000001", "/q/00000000000000000002"]);
    expect(s.get("/q/_h", false, false).node.value).toBe("h");
  });

  test("paths are cleaned as Go's path.Clean", () => {
    expect(cleanPath("")).toBe("/");
    expect(cleanPath("/a//b/./c/../d/")).toBe("/a/b/d");
    expect(cleanPath("/../x")).toBe("/x");
  });
});

describe("TTLs", () => {
  test("ttl is the seconds left rounded up; expiry removes keys and directories as expire events", () => {
    let now = T0;
    const s = store(() => now);
    const e = s.set("/t", false, "v", { expireMs: T0 + 1500 });
    expect(e.node.ttl).toBe(2);
    expect(nodeJson(e.node)).toContain(`"expiration":"${rfc3339Nano(T0 + 1500)}"`);
    s.set("/dir", true, "", { expireMs: T0 + 500 });
    s.set("/dir/child", false, "c", NONE);
    expect(s.hasTtlKeys()).toBe(true);
    const w = s.watch("/dir/child", false, false, 0);
    now = T0 + 1000;
    s.deleteExpiredKeys(now);
    expect(error(() => s.get("/dir/child", false, false)).errorCode).toBe(100);
    expect(s.get("/t", false, false).node.ttl).toBe(1);
    s.deleteExpiredKeys(T0 + 1500);
    expect(s.hasTtlKeys()).toBe(false);
    expect(s.index).toBe(5);
    return w.next().then((ev) => expect(ev?.action).toBe("expire"));
  });

  test("an update without ttl makes the key permanent; refresh keeps the value and wakes no watcher", async () => {
    const s = store();
    s.set("/k", false, "v", { expireMs: T0 + 10_000 });
    const w = s.watch("/k", false, false, 0);
    const r = s.set("/k", false, "", { expireMs: T0 + 20_000, refresh: true });
    expect(r.node.value).toBe("v");
    s.update("/k", "w", NONE);
    expect(s.hasTtlKeys()).toBe(false);
    expect((await w.next())?.action).toBe("update");
  });
});

describe("watcher hub", () => {
  test("history answers past indexes; older than 1000 events is 401", () => {
    const s = store();
    for (let i = 0; i < 1100; i++) s.set("/k", false, String(i), NONE);
    const e = error(() => s.watch("/k", false, false, 50));
    expect(e.toJSON()).toEqual({ errorCode: 401, message: "The event in requested index is outdated and cleared", cause: "the requested history has been cleared [101/50]", index: 1100 });
    const w = s.watch("/k", false, false, 500);
    return w.next().then((ev) => {
      expect(ev?.node.value).toBe("499");
      expect(ev?.etcdIndex).toBe(1100);
    });
  });

  test("recursive watchers see children but not hidden ones; deletion of a parent reaches a child's watcher", async () => {
    const s = store();
    const rec = s.watch("/d", true, true, 0);
    const child = s.watch("/d/x", false, false, 0);
    s.set("/d/_h", false, "h", NONE);
    s.set("/d/x", false, "1", NONE);
    expect((await rec.next())?.node.key).toBe("/d/x");
    expect((await child.next())?.action).toBe("set");
    const child2 = s.watch("/d/x", false, false, 0);
    s.delete("/d", true, true);
    expect((await child2.next())?.action).toBe("delete");
    expect((await rec.next())?.action).toBe("delete");
    rec.remove();
    expect(s.hub.count).toBe(0);
  });
});

describe("persistence", () => {
  /** A store writing through the v2_* tables of an in-memory backend. */
  function persisted(): { db: Database; tables: V2Tables; s: V2Store } {
    const db = new Database(":memory:");
    createSchema(db);
    const tables = new V2Tables(db);
    return { db, tables, s: store(() => T0, tables) };
  }

  test("the v2_* tables rebuild the same store", () => {
    const { db, tables, s } = persisted();
    s.set("/a/b/c", false, "1", NONE);
    s.set("/t", false, "2", { expireMs: T0 + 5000 });
    s.create("/q", false, "x", true, NONE);
    s.set("/gone/x", false, "3", NONE);
    s.delete("/gone", true, true);
    s.compareAndSwap("/t", "2", 0, "3", { expireMs: T0 + 6000 });
    const state = tables.load();
    const copy = store(() => T0);
    copy.load(state);
    expect(eventJson(copy.get("/", true, true))).toBe(eventJson(s.get("/", true, true)));
    expect(copy.index).toBe(s.index);
    expect(copy.hasTtlKeys()).toBe(true);
    expect(state.rows.map((r) => r.path)).toEqual(["/a", "/a/b", "/a/b/c", "/q", "/q/00000000000000000003", "/t"]);
    expect(copy.watch("/t", false, false, 0).sinceIndex).toBe(s.index + 1);
  });

  /** The first event at or after `since` for `key`, as answered (JSON and X-Etcd-Index). */
  async function waited(st: V2Store, key: string, since: number, recursive = false): Promise<string> {
    const e = await st.watch(key, recursive, false, since).next();
    return `${e?.etcdIndex} ${e && eventJson(e)}`;
  }

  test("the event history survives the load, the same waits get the same answers", async () => {
    const { db, tables, s } = persisted();
    s.set("/k", false, "1", NONE);
    s.set("/t", false, "x", { expireMs: T0 + 100_000 });
    s.set("/t", false, "", { expireMs: T0 + 200_000, refresh: true });
    s.update("/k", "2", NONE);
    s.set("/d/x", false, "1", NONE);
    s.delete("/d", true, true);
    s.recordInternal("member", "create");
    s.set("/k", false, "3", NONE);
    const waits: [string, number, boolean][] = [["/k", 1, false], ["/k", 2, false], ["/t", 1, false], ["/d/x", 6, false], ["/", 3, true], ["/", 7, true]];
    const before = await Promise.all(waits.map(([k, i, r]) => waited(s, k, i, r)));
    const copy = store(() => T0, tables);
    copy.load(tables.load());
    expect(await Promise.all(waits.map(([k, i, r]) => waited(copy, k, i, r)))).toEqual(before);
    expect(before[2]).toBe(`8 {"action":"set","node":{"key":"/t","value":"x","expiration":"${rfc3339Nano(T0 + 100_000)}","ttl":100,"modifiedIndex":2,"createdIndex":2}}`);
    // The refresh at 3 is history but never an answer; the internal record at 7 matches no key.
    expect([before[4], before[5]].map((a) => a.slice(0, 30))).toEqual(['8 {"action":"update","node":{"', '8 {"action":"set","node":{"key']);
    // Loaded as at start-up: TTLs are counted again from the clock now, as etcd's WAL replay does.
    const later = store(() => T0 + 30_500, tables);
    later.load(tables.load(), true);
    expect(await waited(later, "/t", 1)).toContain(`"ttl":70,`);
    // The loaded store goes on recording: a write after the load is history for the next one.
    const set = copy.set("/k", false, "4", NONE);
    const again = store(() => T0, tables);
    again.load(tables.load());
    expect(await waited(again, "/k", 9)).toBe(`9 ${eventJson(set)}`);
  });

  test("an event is kept as its answer's JSON; records of the older JSON.stringify form load alike", async () => {
    const { db, tables, s } = persisted();
    const set = s.set("/t", false, "x<y", { expireMs: T0 + 100_500 });
    const row = () => db.query<{ event: string }, []>("SELECT event FROM v2_events ORDER BY idx DESC LIMIT 1").get()!.event;
    expect(row()).toBe(eventJson(set));
    expect(row()).toContain(`"expiration":"${rfc3339Nano(T0 + 100_500)}"`);
    const del = s.delete("/t", false, false);
    expect(row()).toBe(eventJson(del));
    const fresh = await (async () => {
      const copy = store(() => T0, tables);
      copy.load(tables.load());
      return Promise.all([waited(copy, "/t", 1), waited(copy, "/t", 2)]);
    })();
    // What an older build wrote for the same two events.
    const older = (e: typeof set) => JSON.stringify({ action: e.action, node: e.node, prevNode: e.prevNode, refresh: e.refresh });
    db.run("UPDATE v2_events SET event = ? WHERE idx = 1", [older(set)]);
    db.run("UPDATE v2_events SET event = ? WHERE idx = 2", [older(del)]);
    expect(row()).toContain('"expirationMs"');
    const copy = store(() => T0, tables);
    copy.load(tables.load());
    expect(await Promise.all([waited(copy, "/t", 1), waited(copy, "/t", 2)])).toEqual(fresh);
    expect(fresh[0]).toBe(`2 ${eventJson(set)}`);
    expect(fresh[1]).toBe(`2 ${eventJson(del)}`);
  });

  test("the store index is the newest event's; no row is written per change, an older build's higher row still counts", () => {
    const { db, tables, s } = persisted();
    s.set("/a", false, "1", NONE);
    s.recordInternal("member", "create");
    s.delete("/a", false, false);
    expect(db.query("SELECT count(*) AS n FROM v2_state WHERE key = 'index'").get()).toEqual({ n: 0 });
    expect(tables.load().index).toBe(3);
    db.run("INSERT INTO v2_state (key, value) VALUES ('index', 2)");
    expect(tables.load().index).toBe(3);
    db.run("UPDATE v2_state SET value = 7 WHERE key = 'index'");
    expect(tables.load().index).toBe(7);
  });

  test("the tables keep the last 1000 events; without them a past index is 401", () => {
    const { db, tables, s } = persisted();
    for (let i = 0; i < 1100; i++) s.set("/k", false, String(i), NONE);
    expect(db.query("SELECT count(*) AS n FROM v2_events").get()).toEqual({ n: 1000 });
    const copy = store(() => T0);
    copy.load(tables.load());
    expect(error(() => copy.watch("/k", false, false, 100)).toJSON()).toEqual(error(() => s.watch("/k", false, false, 100)).toJSON());
    expect(copy.hub.history.startIndex).toBe(101);
    // Only the run of indexes that ends at the store's index is history.
    db.run("DELETE FROM v2_events WHERE idx = 1050");
    const gap = store(() => T0);
    gap.load(tables.load());
    expect(gap.hub.history.startIndex).toBe(1051);
    // A data dir written before the history was kept (no v2_events rows, the index in v2_state,
    // as those builds wrote it): an older watch is told so instead of waiting.
    db.run("DELETE FROM v2_events");
    db.run("INSERT INTO v2_state (key, value) VALUES ('index', 1100)");
    const bare = store(() => T0);
    bare.load(tables.load());
    expect(error(() => bare.watch("/k", false, false, 1100)).toJSON()).toEqual({
      errorCode: 401,
      message: "The event in requested index is outdated and cleared",
      cause: "the requested history has been cleared [1101/1100]",
      index: 1100,
    });
  });
});
