/** etcd's GetHostname, IsHostWhitelisted and OriginAllowed rules (pkg/httputil, etcdserver/server_access_control.go). */
import { expect, test } from "bun:test";
import { originAllowed } from "./cors.ts";
import { isHostWhitelisted, refusalText, requestHostname } from "./host-whitelist.ts";

test("the host of Host: port dropped, IPv6 brackets removed, no port kept whole", () => {
  expect(["a.example:2379", "[::1]:1", "evil", "[::1]", "a:b:c", "host:"].map(requestHostname)).toEqual(["a.example", "::1", "evil", "[::1]", "a:b:c", "host"]);
});

test("an empty list or * allows everything, otherwise exact matches", () => {
  expect([isHostWhitelisted([], "x"), isHostWhitelisted(["*"], "x"), isHostWhitelisted(["a", "x"], "x"), isHostWhitelisted(["a"], "x")]).toEqual([true, true, true, false]);
  expect([originAllowed([], "http://x:1"), originAllowed(["*"], "http://x:1"), originAllowed(["http://x:1"], "http://x:1"), originAllowed(["http://x:1"], "http://x")]).toEqual([true, true, true, false]);
});

test("the refusal quotes the host as Go's %q", () => {
  expect(refusalText('a"b')).toContain('etcd --host-whitelist "a\\"b"\n');
});
