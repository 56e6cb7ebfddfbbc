import { expect, test } from "bun:test";
import type { KvHash } from "../mvcc/hash.ts";
import { realEnv } from "../node/env.ts";
import { CorruptChecker, type CorruptCheckDeps } from "./check.ts";
import type { PeerHashKV } from "./peer-hashkv.ts";
import { hashKvJson, serveHashKV } from "./peer-hashkv.ts";

const quiet = { info() {}, warn() {} };

/** A checker whose local hashes come from `local` in turn and whose peers answer from `peers` by URL. */
function checker(local: KvHash[], peers: Record<string, PeerHashKV>) {
  let raised = 0;
  let n = 0;
  const deps: CorruptCheckDeps = {
    memberId: 1n,
    hashKV: async () => local[Math.min(n++, local.length - 1)]!,
    peers: () => [{ id: 1n, peerURLs: ["self"] }, ...Object.keys(peers).map((u, i) => ({ id: BigInt(i + 2), peerURLs: [u] }))],
    fetchPeer: async (url) => peers[url]!,
    isLeader: () => true,
    linearizableReadNotify: async () => {},
    raiseCorrupt: async () => void raised++,
    logger: quiet,
    env: realEnv,
  };
  return { c: new CorruptChecker(deps), raised: () => raised };
}

const H = (hash: number, revision = 10, compactRevision = 0): KvHash => ({ hash, revision, compactRevision });

test("periodic check: equal hashes pass; a follower with another hash at the same compact revision raises CORRUPT once", async () => {
  const ok = checker([H(7)], { a: { ok: H(7) }, b: { error: "future" } });
  expect(await ok.c.periodicCheck()).toBe(false);
  const bad = checker([H(7)], { a: { ok: H(8) }, b: { ok: H(9) } });
  expect(await bad.c.periodicCheck()).toBe(true);
  expect(bad.raised()).toBe(1);
  // Another compact revision: not comparable.
  const other = checker([H(7, 10, 5)], { a: { ok: H(8, 10, 3) } });
  expect(await other.c.periodicCheck()).toBe(false);
  // A follower ahead of the leader is a mismatch too.
  const ahead = checker([H(7, 10)], { a: { ok: H(7, 11) } });
  expect(await ahead.c.periodicCheck()).toBe(true);
});

test("initial check: a different hash at the same compact revision fails the start-up; errors only warn", async () => {
  await checker([H(7)], { a: { ok: H(7) }, b: { error: "connection refused" } }).c.initialCheck();
  await checker([H(7, 10, 2)], { a: { ok: H(8, 10, 4) } }).c.initialCheck();
  await expect(checker([H(7)], { a: { ok: H(8) } }).c.initialCheck()).rejects.toThrow("1 found data inconsistency with peers");
});

test("the peer handler answers Go's JSON, 400 for bad bodies and mvcc errors, 405 for other methods", async () => {
  const hash = async (rev: number) => {
    if (rev === 1) throw Object.assign(new Error("x"), { rawMessage: "etcdserver: mvcc: required revision has been compacted" });
    return H(123, rev || 10, 4);
  };
  const ok = await serveHashKV("GET", '{"revision":9}', "abc", hash);
  expect([ok.status, await ok.text(), ok.headers.get("x-etcd-cluster-id")]).toEqual([200, '{"header":{"revision":9},"hash":123,"compact_revision":4}', "abc"]);
  expect(hashKvJson(H(0, 0, 0))).toBe('{"header":{}}');
  const compacted = await serveHashKV("POST", '{"revision":1}', "abc", hash);
  expect([compacted.status, await compacted.text()]).toEqual([400, "mvcc: required revision has been compacted\n"]);
  expect((await serveHashKV("GET", "{", "abc", hash)).status).toBe(400);
  expect((await serveHashKV("PUT", "{}", "abc", hash)).status).toBe(405);
});
