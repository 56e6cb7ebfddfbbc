/**
 * Auto-compaction in the production member under a manual clock (server/node/testing.ts
 * ManualEnv): the compaction goes through the log and the store's compact revision moves on
 * etcd 3.4's schedule, with the member's own timers only.
 */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { openBackend } from "../storage/sqlite.ts";
import { EtcdNode, type NodeConfig } from "../node/etcd-node.ts";
import { ManualEnv, singleMemberConfig, nodesClosedAfterEach } from "../node/testing.ts";

const { nodes, dirs } = nodesClosedAfterEach();

function member(env: ManualEnv, overrides: Partial<NodeConfig>, lines: string[]): EtcdNode {
  const dir = mkdtempSync(join(tmpdir(), "etcd-compactor-"));
  dirs.push(dir);
  const log = { info: (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${JSON.stringify(f ?? {})}`), warn: (m: string) => lines.push(m) };
  const node = new EtcdNode(openBackend(dir), singleMemberConfig(dir, { env, ...overrides }), log);
  nodes.push(node);
  return node;
}

const put = (node: EtcdNode, i: number) => node.put(create(PutRequestSchema, { key: new TextEncoder().encode(`k${i}`), value: new Uint8Array([i]) }));

test("periodic 10m: the leader compacts through the log at the revision of the start after 10 minutes", async () => {
  const env = new ManualEnv();
  const lines: string[] = [];
  const node = member(env, { autoCompactionMode: "periodic", autoCompactionRetention: "10m" }, lines);
  await env.advance(1_000);
  await node.ready();
  const startRev = node.mvcc.currentRevision;
  for (let minute = 0; minute < 10; minute++) {
    await put(node, minute);
    await env.advance(60_000);
  }
  expect(node.mvcc.compactRevision).toBe(startRev);
  expect(lines.filter((l) => l.includes("auto periodic compaction"))).toEqual([
    `starting auto periodic compaction {"revision":${startRev},"compact-period":"10m0s"}`,
    `completed auto periodic compaction {"revision":${startRev},"compact-period":"10m0s","took":"10m0s"}`,
  ]);
});

test("revision 3: every 5 minutes the leader compacts at the current revision minus 3", async () => {
  const env = new ManualEnv();
  const node = member(env, { autoCompactionMode: "revision", autoCompactionRetention: "3" }, []);
  await env.advance(1_000);
  await node.ready();
  for (let i = 0; i < 10; i++) await put(node, i);
  await env.advance(5 * 60_000);
  expect(node.mvcc.compactRevision).toBe(node.mvcc.currentRevision - 3);
});

test("a bad retention fails the start with etcd's error", () => {
  expect(() => member(new ManualEnv(), { autoCompactionRetention: "abc" }, [])).toThrow('error parsing CompactionRetention: time: invalid duration "abc"');
});
