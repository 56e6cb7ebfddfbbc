import { create } from "@bufbuild/protobuf";
import { describe, expect, test } from "bun:test";
import { PermissionSchema, Permission_Type } from "../../proto/gen/authpb/auth_pb.ts";
import { IntervalSet, isRangeOpPermitted, mergePermissions, type KeyInterval } from "./range-perms.ts";

const b = (s: string) => new TextEncoder().encode(s);
const ivl = (begin: string, end: string): KeyInterval => ({ begin: b(begin), end: b(end) });
const set = (...ivls: KeyInterval[]) => {
  const s = new IntervalSet();
  for (const i of ivls) s.insert(i);
  return s;
};

describe("IntervalSet (etcd's range_perm_cache_test.go cases)", () => {
  test("contains: a range needs gap-free cover", () => {
    expect(set(ivl("a", "c"), ivl("x", "z")).contains(ivl("a", "z"))).toBe(false);
    expect(set(ivl("a", "f"), ivl("c", "d"), ivl("f", "z")).contains(ivl("a", "z"))).toBe(true);
    expect(set(ivl("a", "d"), ivl("a", "b"), ivl("c", "f")).contains(ivl("a", "f"))).toBe(true);
  });

  test("intersects: a single key inside some interval", () => {
    const point = (k: string) => ({ begin: b(k), end: b(`${k}\0`) });
    expect(set(ivl("a", "c"), ivl("x", "z")).intersects(point("f"))).toBe(false);
    expect(set(ivl("a", "f"), ivl("c", "d"), ivl("f", "z")).intersects(point("b"))).toBe(true);
    expect(set(ivl("a", "d"), ivl("a", "b"), ivl("c", "f")).intersects(point("d"))).toBe(true);
    expect(set(ivl("a", "d"), ivl("a", "b"), ivl("c", "f")).intersects(point("f"))).toBe(false);
  });

  test("an empty end is unbounded", () => {
    expect(set(ivl("m", "")).contains(ivl("x", ""))).toBe(true);
    expect(set(ivl("m", "")).contains(ivl("a", ""))).toBe(false);
    expect(set(ivl("m", "z")).contains(ivl("m", ""))).toBe(false);
    expect(set(ivl("m", "z"), ivl("z", "")).contains(ivl("n", ""))).toBe(true);
  });
});

describe("isRangeOpPermitted over stored permissions", () => {
  const perm = (permType: Permission_Type, key: string, rangeEnd = "") =>
    create(PermissionSchema, { permType, key: b(key), rangeEnd: b(rangeEnd) });
  const perms = mergePermissions([
    perm(Permission_Type.READ, "foo"), // the single key foo
    perm(Permission_Type.READWRITE, "dir/", "dir0"), // prefix dir/
    perm(Permission_Type.WRITE, "w", "\0"), // from w on
  ]);

  test("single key permission", () => {
    expect(isRangeOpPermitted(perms, b("foo"), b(""), "read")).toBe(true);
    expect(isRangeOpPermitted(perms, b("foo"), b(""), "write")).toBe(false);
    expect(isRangeOpPermitted(perms, b("fo"), b(""), "read")).toBe(false);
    expect(isRangeOpPermitted(perms, b("foo1"), b(""), "read")).toBe(false);
    // [foo, foo\0) is exactly the key
    expect(isRangeOpPermitted(perms, b("foo"), b("foo\0"), "read")).toBe(true);
    expect(isRangeOpPermitted(perms, b("foo"), b("fop"), "read")).toBe(false);
  });

  test("prefix permission", () => {
    expect(isRangeOpPermitted(perms, b("dir/a"), b(""), "write")).toBe(true);
    expect(isRangeOpPermitted(perms, b("dir/"), b("dir0"), "read")).toBe(true);
    expect(isRangeOpPermitted(perms, b("dir/x/"), b("dir/x0"), "read")).toBe(true);
    expect(isRangeOpPermitted(perms, b("dir"), b("dir0"), "read")).toBe(false);
    expect(isRangeOpPermitted(perms, b("dir/"), b("\0"), "read")).toBe(false);
  });

  test("from-key permission", () => {
    expect(isRangeOpPermitted(perms, b("x"), b(""), "write")).toBe(true);
    expect(isRangeOpPermitted(perms, b("w"), b("\0"), "write")).toBe(true);
    expect(isRangeOpPermitted(perms, b("wa"), b("\0"), "write")).toBe(true);
    expect(isRangeOpPermitted(perms, b("v"), b("\0"), "write")).toBe(false);
    expect(isRangeOpPermitted(perms, b("x"), b(""), "read")).toBe(false);
  });

  test("no permissions: nothing is allowed", () => {
    const none = mergePermissions([]);
    expect(isRangeOpPermitted(none, b("a"), b(""), "read")).toBe(false);
    expect(isRangeOpPermitted(none, b("a"), b("b"), "write")).toBe(false);
  });
});
