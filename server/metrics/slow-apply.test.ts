import { afterEach, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompactionRequestSchema, PutRequestSchema, RangeRequestSchema, TxnRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { startEtcdNode, type EtcdNode } from "../node/etcd-node.ts";
import { createRealEnv } from "../node/env.ts";
import { singleMemberConfig, waitFor } from "../node/testing.ts";

const enc = new TextEncoder();
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/**
 * A lone member whose monotonic clock stands still, except that it jumps `stepMs` on every reading
 * while `slow` is on: every timed request then takes exactly `stepMs` by the member's clock (the
 * injected MemberEnv; nothing waits for real).
 */
async function member(overrides: { warningApplyDurationMs?: number } = {}) {
  const clock = { slow: false, skewMs: 0, stepMs: 150 };
  const real = createRealEnv();
  const env = { ...real, monotonicMs: () => (clock.slow ? (clock.skewMs += clock.stepMs) : clock.skewMs) };
  const dir = mkdtempSync(join(tmpdir(), "opsgap-slow-"));
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const logger = { info() {}, warn: (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, ...fields }) };
  const node: EtcdNode = await startEtcdNode(singleMemberConfig(dir, { env, ...overrides }), logger);
  cleanup.push(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await node.ready();
  await waitFor(() => node.status().raftAppliedIndex === node.status().raftIndex, "start-up entries applied");
  return { node, clock, lines: () => lines.filter((l) => l.msg.includes("apply request")) };
}

test("a slow apply is logged as etcd's `apply request took too long` and counted; fast ones are not", async () => {
  const { node, clock, lines } = await member();
  await node.put(create(PutRequestSchema, { key: enc.encode("fast"), value: enc.encode("v") }));
  await node.range(create(RangeRequestSchema, { key: enc.encode("fast") }));
  expect(lines()).toEqual([]);
  expect(node.counters.slowApply).toBe(0);

  clock.slow = true;
  await node.put(create(PutRequestSchema, { key: enc.encode("foo"), value: enc.encode("bar") }));
  await node.range(create(RangeRequestSchema, { key: enc.encode("foo"), serializable: true }));
  await node.txn(create(TxnRequestSchema, { success: [{ request: { case: "requestRange", value: { key: enc.encode("foo") } } }] }));
  clock.slow = false;
  const [put, range, txn] = lines();
  expect(put).toMatchObject({ msg: "apply request took too long", took: "150ms", "expected-duration": "100ms", prefix: "", response: "size:4" });
  expect(put!.request).toMatch(/^header:<ID:\d+ > put:<key:"foo" value_size:3 >$/);
  expect(put!.error).toBeUndefined();
  expect(range).toMatchObject({ prefix: "read-only range ", request: 'key:"foo" serializable:true ', response: expect.stringMatching(/^range_response_count:1 size:\d+$/) });
  expect(txn).toMatchObject({ prefix: "read-only range ", request: 'compare:<> success:<request_range:<key:"foo" > > failure:<>', response: expect.stringMatching(/^responses:<range_response_count:1> size:\d+$/) });
  expect(node.counters.slowApply).toBe(3);
});

test("a failed apply is logged as `failed to apply request` with etcd's error; the threshold is the flag's", async () => {
  const { node, clock, lines } = await member({ warningApplyDurationMs: 1000 });
  await node.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode("v") }));
  await node.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode("v") }));
  await node.compact(create(CompactionRequestSchema, { revision: 2n }));
  clock.slow = true;
  await node.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode("v") }));
  clock.slow = false;
  expect(lines()).toEqual([]);
  expect(node.counters.slowApply).toBe(0);
  await expect(node.compact(create(CompactionRequestSchema, { revision: 2n }))).rejects.toThrow("required revision has been compacted");
  expect(lines()).toEqual([
    { msg: "failed to apply request", took: "0s", request: expect.stringMatching(/^header:<ID:\d+ > compaction:<revision:2 > $/), response: "", error: "mvcc: required revision has been compacted" },
  ]);
});
