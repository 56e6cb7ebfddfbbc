import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompactionRequestSchema, PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { startEtcdNode, type EtcdNode } from "./etcd-node.ts";
import { quietNodeLogger, singleMemberConfig, nodesClosedAfterEach } from "./testing.ts";
import { COMPACTION_BATCH_ROWS } from "./limits.ts";
import { watchEventLoopGaps } from "../http/test-util.ts";

const { nodes, dirs } = nodesClosedAfterEach();

const enc = new TextEncoder();

test("compacting many revisions deletes them in batches: the event loop is never held long, a physical compaction answers when done", async () => {
  const dir = mkdtempSync(join(tmpdir(), "compaction-node-"));
  dirs.push(dir);
  const node = await startEtcdNode(singleMemberConfig(dir), quietNodeLogger);
  nodes.push(node);
  await node.ready();
  // History written straight into the store (as applied entries would), to keep the test short.
  const revisions = COMPACTION_BATCH_ROWS * 12;
  (node as unknown as { db: { transaction(f: () => void): () => void } }).db.transaction(() => {
    for (let i = 0; i < revisions; i++) node.mvcc.put(create(PutRequestSchema, { key: enc.encode(`k${i % 1000}`), value: enc.encode(`v${i}`) }));
  })();
  const rev = node.mvcc.currentRevision;
  const loopGaps = watchEventLoopGaps();
  let maxGapMs = 0;
  try {
    await node.compact(create(CompactionRequestSchema, { revision: BigInt(rev) }));
    // Not physical: answered with most rows still to delete.
    expect(node.mvcc.pendingCompactionRows).toBeGreaterThan(COMPACTION_BATCH_ROWS);
    await node.put(create(PutRequestSchema, { key: enc.encode("during"), value: enc.encode("x") }));
    await node.compact(create(CompactionRequestSchema, { revision: BigInt(node.mvcc.currentRevision), physical: true }));
    expect(node.mvcc.pendingCompactionRows).toBe(0);
  } finally {
    maxGapMs = loopGaps.stop();
  }
  // A batch of 1 000 deletes takes a few ms; the whole compaction far longer.
  expect(maxGapMs).toBeLessThan(500);
  const left = await node.range(create(RangeRequestSchema, { key: enc.encode("k"), rangeEnd: enc.encode("l"), countOnly: true }));
  expect(left.count).toBe(1000n);
});

test("--experimental-compaction-batch-limit sets the rows deleted per turn", async () => {
  const dir = mkdtempSync(join(tmpdir(), "compaction-node-"));
  dirs.push(dir);
  const node = await startEtcdNode({ ...singleMemberConfig(dir), compactionBatchLimit: 100 }, quietNodeLogger);
  nodes.push(node);
  await node.ready();
  (node as unknown as { db: { transaction(f: () => void): () => void } }).db.transaction(() => {
    for (let i = 0; i < 1000; i++) node.mvcc.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode(`v${i}`) }));
  })();
  await node.compact(create(CompactionRequestSchema, { revision: BigInt(node.mvcc.currentRevision) }));
  const seen: number[] = [];
  for (let t = 0; t < 500 && node.mvcc.pendingCompactionRows > 0; t++) {
    if (seen.at(-1) !== node.mvcc.pendingCompactionRows) seen.push(node.mvcc.pendingCompactionRows);
    await Bun.sleep(1);
  }
  expect(node.mvcc.pendingCompactionRows).toBe(0);
  // 999 rows freed, 100 per turn: several turns saw rows pending.
  expect(seen.length).toBeGreaterThanOrEqual(5);
});
