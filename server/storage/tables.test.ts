import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { HardStateTable } from "./hard-state.ts";
import { MembersTable, memberIdToHex } from "./members.ts";
import { Meta, MetaKeys } from "./meta.ts";
import { type LogEntry, RaftLog } from "./raft-log.ts";
import { createSchema } from "./schema.ts";

function memoryDb(): Database {
  const db = new Database(":memory:");
  createSchema(db);
  createSchema(db); // idempotent
  return db;
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe("Meta", () => {
  test("numbers, bigints (full uint64) and strings round-trip; absent keys give the fallback", () => {
    const meta = new Meta(memoryDb());
    expect(meta.getNumber(MetaKeys.appliedIndex)).toBeUndefined();
    expect(meta.getNumber(MetaKeys.appliedIndex, 0)).toBe(0);
    meta.setNumber(MetaKeys.appliedIndex, 2 ** 40 + 3);
    expect(meta.getNumber(MetaKeys.appliedIndex)).toBe(2 ** 40 + 3);
    const id = 0xfedcba9876543210n;
    meta.setBigint(MetaKeys.clusterId, id);
    expect(meta.getBigint(MetaKeys.clusterId)).toBe(id);
    expect(meta.getBigint(MetaKeys.memberId, 7n)).toBe(7n);
    meta.setString("name", "infra1");
    expect(meta.getString("name")).toBe("infra1");
    meta.delete("name");
    expect(meta.getString("name", "none")).toBe("none");
  });

  test("reading a value with the wrong type throws", () => {
    const meta = new Meta(memoryDb());
    meta.setString("s", "abc");
    expect(() => meta.getNumber("s")).toThrow(TypeError);
  });
});

describe("RaftLog", () => {
  const entry = (index: number, term: number, data = `e${index}`): LogEntry => ({
    index,
    term,
    type: 0,
    data: bytes(data),
  });

  test("append, entries, term, first/last index", () => {
    const log = new RaftLog(memoryDb());
    expect(log.lastIndex()).toBe(0);
    expect(log.firstIndex()).toBe(0);
    log.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
    expect(log.lastIndex()).toBe(3);
    expect(log.firstIndex()).toBe(1);
    expect(log.term(3)).toBe(2);
    expect(log.term(4)).toBeUndefined();
    expect(log.entries(2, 4)).toEqual([entry(2, 1), entry(3, 2)]);
  });

  test("append replaces a conflicting tail", () => {
    const log = new RaftLog(memoryDb());
    log.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    log.append([entry(2, 2, "new")]);
    expect(log.lastIndex()).toBe(2);
    expect(log.entries(1, 10)).toEqual([entry(1, 1), entry(2, 2, "new")]);
  });

  test("append rejects non-consecutive indexes", () => {
    const log = new RaftLog(memoryDb());
    expect(() => log.append([entry(1, 1), entry(3, 1)])).toThrow(RangeError);
    expect(log.lastIndex()).toBe(0);
  });

  test("entries honour maxBytes but return at least one entry", () => {
    const log = new RaftLog(memoryDb());
    log.append([entry(1, 1, "aaaa"), entry(2, 1, "bbbb"), entry(3, 1, "cccc")]);
    expect(log.entries(1, 4, 8).map((e) => e.index)).toEqual([1, 2]);
    expect(log.entries(1, 4, 1).map((e) => e.index)).toEqual([1]);
  });

  test("truncateFrom and compactBefore", () => {
    const log = new RaftLog(memoryDb());
    log.append([1, 2, 3, 4, 5].map((i) => entry(i, 1)));
    log.truncateFrom(5);
    log.compactBefore(3);
    expect(log.firstIndex()).toBe(3);
    expect(log.lastIndex()).toBe(4);
    expect(log.term(2)).toBeUndefined();
  });

  test("an entry with empty data reads back as an empty Uint8Array", () => {
    const log = new RaftLog(memoryDb());
    log.append([{ index: 1, term: 1, type: 1, data: new Uint8Array(0) }]);
    expect(log.entries(1, 2)).toEqual([{ index: 1, term: 1, type: 1, data: new Uint8Array(0) }]);
  });
});

describe("HardStateTable", () => {
  test("empty state before the first save, then the saved state", () => {
    const hs = new HardStateTable(memoryDb());
    expect(hs.load()).toEqual({ term: 0, vote: 0n, commit: 0 });
    hs.save({ term: 3, vote: 0xffffffffffffffffn, commit: 10 });
    hs.save({ term: 4, vote: 0x8e9e05c52164694dn, commit: 12 });
    expect(hs.load()).toEqual({ term: 4, vote: 0x8e9e05c52164694dn, commit: 12 });
  });
});

describe("MembersTable", () => {
  test("put, get, all (ordered by ID), update, remove", () => {
    const members = new MembersTable(memoryDb());
    const a = { id: 0x8e9e05c52164694dn, name: "a", peerURLs: ["http://127.0.0.1:2380"], clientURLs: [], isLearner: false };
    const b = { id: 0x10n, name: "b", peerURLs: ["http://127.0.0.1:2381"], clientURLs: ["http://127.0.0.1:2379"], isLearner: true };
    members.put(a);
    members.put(b);
    expect(members.get(a.id)).toEqual(a);
    expect(members.all()).toEqual([b, a]);
    members.put({ ...b, isLearner: false });
    expect(members.get(b.id)?.isLearner).toBe(false);
    expect(members.remove(b.id)).toBe(true);
    expect(members.remove(b.id)).toBe(false);
    expect(members.all()).toEqual([a]);
  });

  test("IDs are stored as etcd prints them (hex, no padding)", () => {
    expect(memberIdToHex(0x8e9e05c52164694dn)).toBe("8e9e05c52164694d");
    expect(memberIdToHex(0x10n)).toBe("10");
  });
});
