import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { createLogger } from "../log.ts";
import { openBackend } from "../storage/sqlite.ts";
import { EtcdNode, startEtcdNode } from "./etcd-node.ts";
import { fatal } from "./fatal.ts";
import { makeMessage, MessageType } from "../raft/types.ts";
import { quietNodeLogger, singleMemberConfig, waitFor, nodesClosedAfterEach } from "./testing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const { nodes, dirs } = nodesClosedAfterEach();


function lines(out: string[]): Record<string, unknown>[] {
  return out.map((l) => JSON.parse(l));
}

test("fatal writes one level-fatal JSON line and exits with code 1", () => {
  const out: string[] = [];
  const codes: number[] = [];
  fatal(createLogger({ write: (l) => void out.push(l) }), "failed to save Raft hard state and entries", { error: "disk I/O error" }, (c) => void codes.push(c));
  expect(codes).toEqual([1]);
  expect(lines(out)).toMatchObject([{ level: "fatal", msg: "failed to save Raft hard state and entries", error: "disk I/O error" }]);
});

/** A member on a fresh data dir whose fatal calls are recorded; `put` writes a key. */
async function failingMember() {
  const dir = mkdtempSync(join(tmpdir(), "etcd-fatal-"));
  dirs.push(dir);
  const calls: [string, Record<string, unknown>][] = [];
  const db = openBackend(dir);
  const node = new EtcdNode(db, singleMemberConfig(dir, { onFatal: (msg, fields) => void calls.push([msg, fields]) }), quietNodeLogger);
  nodes.push(node);
  await node.ready();
  const put = (k: string, v: string) => node.put(create(PutRequestSchema, { key: enc.encode(k), value: enc.encode(v) }));
  return { dir, db, node, calls, put };
}

/** Restarts on `dir` and lists every key as [key, value, mod revision]. */
async function restartAndList(dir: string): Promise<[string, string, bigint][]> {
  nodes.splice(0);
  const again = await startEtcdNode(singleMemberConfig(dir), quietNodeLogger);
  nodes.push(again);
  await again.ready();
  const got = await again.range(create(RangeRequestSchema, { key: enc.encode("\0"), rangeEnd: new Uint8Array([0]) }));
  return got.kvs.map((kv) => [dec.decode(kv.key), dec.decode(kv.value), kv.modRevision]);
}

test("a storage write that fails in the Ready loop is fatal: nothing more is acknowledged or served, and a restart has every acknowledged write", async () => {
  const { dir, db, node, calls, put } = await failingMember();
  const acked = await Promise.all([put("a", "1"), put("b", "2")]);

  // The disk turns read-only under the member (SQLite refuses every write from now on).
  db.exec("PRAGMA query_only = 1");
  const lost = await Promise.allSettled([put("c", "3"), put("a", "4")]);
  await waitFor(() => calls.length > 0, "the fatal call");
  expect(calls).toHaveLength(1);
  expect(calls[0]![0]).toBe("failed to save Raft hard state and entries");
  expect(String(calls[0]![1].error)).toContain("readonly");
  expect(node.hasFailed).toBe(true);
  expect(lost.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  await expect(node.range(create(RangeRequestSchema, { key: enc.encode("c"), serializable: true }))).rejects.toThrow(
    "etcdserver: server stopped",
  );
  expect(await restartAndList(dir)).toEqual([
    ["a", "1", acked[0]!.header!.revision],
    ["b", "2", acked[1]!.header!.revision],
  ]);
});

test("a write failing in the middle of an apply batch is fatal: entries applied before it in memory are neither acknowledged nor served", async () => {
  const { dir, db, node, calls, put } = await failingMember();
  const acked = await put("a", "1");
  // The disk fails on the write of key "c" only (a temporary trigger of this connection).
  db.exec("CREATE TEMP TRIGGER fail_c BEFORE INSERT ON kv WHEN NEW.key = CAST('c' AS BLOB) BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
  // One Ready applies both: "a" = 4 reaches the in-memory index before "c" fails.
  const lost = await Promise.allSettled([put("a", "4"), put("c", "3")]);
  await waitFor(() => calls.length > 0, "the fatal call");
  expect(calls.map(([msg, f]) => [msg, f.error])).toEqual([["failed to apply committed entries", "disk I/O error"]]);
  expect(lost.map((r) => (r.status === "rejected" ? String(r.reason) : "acknowledged"))).toEqual([
    "ConnectError: [unavailable] etcdserver: server stopped",
    "ConnectError: [unavailable] etcdserver: server stopped",
  ]);
  await expect(node.range(create(RangeRequestSchema, { key: enc.encode("a"), serializable: true }))).rejects.toThrow(
    "etcdserver: server stopped",
  );
  expect(await restartAndList(dir)).toEqual([["a", "1", acked.header!.revision]]);
});

test("a Raft panic while stepping a peer's message is fatal, not swallowed by the transport (found by server/sim with a member that lost acknowledged log entries, lazy-sync seed 16)", async () => {
  const { node, calls } = await failingMember();
  const st = node.raft.status();
  // A heartbeat of the current term from another member committing far past this member's log.
  node.step(makeMessage({ type: MessageType.MsgHeartbeat, from: 99n, to: node.memberId, term: st.hardState.term + 1, commit: st.hardState.commit + 100 }));
  await waitFor(() => calls.length > 0, "the fatal call");
  expect(calls[0]![0]).toBe("failed to step a Raft message");
  expect(String(calls[0]![1].error)).toContain("out of range");
  expect(node.hasFailed).toBe(true);
});

test("a local-only Raft message type from a peer stays the caller's error (the transport logs it), not fatal", async () => {
  const { node, calls } = await failingMember();
  expect(() => node.step(makeMessage({ type: MessageType.MsgHup, from: 99n, to: node.memberId }))).toThrow();
  expect(calls).toEqual([]);
  expect(node.hasFailed).toBe(false);
});
