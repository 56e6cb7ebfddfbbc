import { expect, test } from "bun:test";
import { compareBytes, fromUtf8, groupPage, hasNextPage, nextPageStart, pageRequest, prefixEnd, utf8 } from "./tree.ts";
import { defaultView, renderValue } from "./values.ts";
import { canWrite } from "./permissions.ts";

test("prefixEnd is etcd's GetPrefixRangeEnd", () => {
  expect([...prefixEnd(utf8("/a/"))]).toEqual([...utf8("/a0")]);
  expect([...prefixEnd(new Uint8Array([0x61, 0xff]))]).toEqual([0x62]);
  expect([...prefixEnd(new Uint8Array([0xff, 0xff]))]).toEqual([0]);
  expect([...prefixEnd(new Uint8Array())]).toEqual([0]);
});

test("groupPage lists each folder once and keeps keys as leaves, in key order", () => {
  const keys = ["/app/a", "/app/b/1", "/app/b/2", "/app/b/x/y", "/app/c", "/app/d/"];
  expect(groupPage("/app/", keys)).toEqual([
    { kind: "key", name: "a", key: "/app/a" },
    { kind: "folder", name: "b/", prefix: "/app/b/" },
    { kind: "key", name: "c", key: "/app/c" },
    { kind: "folder", name: "d/", prefix: "/app/d/" },
  ]);
  expect(groupPage("", ["/x", "a", "a/b"])).toEqual([
    { kind: "folder", name: "/", prefix: "/" },
    { kind: "key", name: "a", key: "a" },
    { kind: "folder", name: "a/", prefix: "a/" },
  ]);
  expect(() => groupPage("/p/", ["/q"])).toThrow('key "/q" is not under "/p/"');
});

test("paging: the next page starts after the last key, or past the last folder", () => {
  const first = pageRequest("/big/", undefined, 500);
  expect(fromUtf8(first.key)).toBe("/big/");
  expect(fromUtf8(first.rangeEnd)).toBe("/big0");
  expect(first.limit).toBe(500n);
  const afterKey = nextPageStart(groupPage("/big/", ["/big/k1", "/big/k2"]))!;
  expect([...afterKey]).toEqual([...utf8("/big/k2"), 0]);
  const afterFolder = nextPageStart(groupPage("/big/", ["/big/k1", "/big/sub/1", "/big/sub/2"]))!;
  expect(fromUtf8(afterFolder)).toBe("/big/sub0");
  expect(compareBytes(afterKey, utf8("/big/k2"))).toBeGreaterThan(0);
  expect(nextPageStart([])).toBeUndefined();
  // The whole-keyspace listing starts at \0 and never reaches its end.
  expect([...pageRequest("", undefined, 1).key]).toEqual([0]);
  expect(hasNextPage(true, utf8("zz"), new Uint8Array([0]))).toBe(true);
  expect(hasNextPage(true, utf8("/big0"), utf8("/big0"))).toBe(false);
  expect(hasNextPage(false, utf8("/big/a"), utf8("/big0"))).toBe(false);
  expect(hasNextPage(true, utf8("/big/a"), utf8("/big0"))).toBe(true);
});

test("paging through 100,000 keys in folders visits every entry once", () => {
  // A fake Range over a sorted key list: keys in [key, rangeEnd), at most limit.
  const all: string[] = [];
  for (let f = 0; f < 10; f++) for (let i = 0; i < 10_000; i++) all.push(`/big/f${f}/k${String(i).padStart(5, "0")}`);
  for (let i = 0; i < 250; i++) all.push(`/big/k${String(i).padStart(3, "0")}`);
  all.sort();
  let requests = 0;
  const range = (req: ReturnType<typeof pageRequest>) => {
    requests++;
    const inRange = all.filter((k) => compareBytes(utf8(k), req.key) >= 0 && compareBytes(utf8(k), req.rangeEnd) < 0);
    return { keys: inRange.slice(0, Number(req.limit)), more: inRange.length > Number(req.limit) };
  };
  const seen: string[] = [];
  let from: Uint8Array | undefined;
  for (;;) {
    const req = pageRequest("/big/", from, 100);
    const page = range(req);
    const entries = groupPage("/big/", page.keys);
    seen.push(...entries.map((e) => e.name));
    from = nextPageStart(entries);
    if (!hasNextPage(page.more, from, req.rangeEnd)) break;
  }
  expect(seen.length).toBe(260);
  expect(new Set(seen).size).toBe(260);
  expect(seen.slice(0, 2)).toEqual(["f0/", "f1/"]);
  expect(requests).toBeLessThan(20);
});

test("values: text, pretty JSON, hex for binary", () => {
  const json = utf8('{"a":[1,2]}');
  expect(defaultView(json)).toBe("json");
  expect(renderValue(json, "json")).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
  expect(defaultView(utf8("hello"))).toBe("text");
  const bin = new Uint8Array([0, 1, 0x68, 0x69, 0xff]);
  expect(defaultView(bin)).toBe("hex");
  expect(renderValue(bin, "hex")).toBe("00000000  00 01 68 69 ff" + " ".repeat(47 - 14) + "  |..hi.|");
  expect(renderValue(utf8("{x"), "json")).toStartWith("invalid JSON: ");
});

test("canWrite: admin always; else a permission range covering the key (single key, [key, end), from key on)", () => {
  const ranges = [
    { key: utf8("/pub/"), end: utf8("/pub0") },
    { key: utf8("/one"), end: new Uint8Array() },
    { key: utf8("/z"), end: new Uint8Array([0]) },
  ];
  expect(canWrite(true, [], utf8("/anything"))).toBe(true);
  expect(canWrite(false, ranges, utf8("/pub/a"))).toBe(true);
  expect(canWrite(false, ranges, utf8("/pub0"))).toBe(false);
  expect(canWrite(false, ranges, utf8("/one"))).toBe(true);
  expect(canWrite(false, ranges, utf8("/one/x"))).toBe(false);
  expect(canWrite(false, ranges, utf8("/zzz"))).toBe(true);
  expect(canWrite(false, ranges, utf8("/a"))).toBe(false);
  expect(canWrite(false, [], utf8("/a"))).toBe(false);
});
