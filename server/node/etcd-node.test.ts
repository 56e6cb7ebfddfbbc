import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CompactionRequestSchema,
  PutRequestSchema,
  RangeRequestSchema,
  TxnRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { InternalRaftRequestSchema } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { applyEntry } from "./applier.ts";
import { startEtcdNode, type EtcdNode } from "./etcd-node.ts";
import { syncLevel } from "./raft-driver.ts";
import type { Database } from "bun:sqlite";
import { quietNodeLogger, singleMemberConfig, nodesClosedAfterEach } from "./testing.ts";

const { nodes, dirs } = nodesClosedAfterEach();
const enc = new TextEncoder();

async function open(dir?: string): Promise<{ node: EtcdNode; dir: string }> {
  const d = dir ?? mkdtempSync(join(tmpdir(), "etcd-node-"));
  if (!dir) dirs.push(d);
  const node = await startEtcdNode(singleMemberConfig(d, { maxRequestBytes: 1024 }), quietNodeLogger);
  nodes.push(node);
  await settled(node);
  return { node, dir: d };
}

/** Waits until the member leads and has applied everything committed (its own start-up entries). */
async function settled(node: EtcdNode): Promise<void> {
  await node.ready();
  for (let i = 0; i < 200; i++) {
    const st = node.status();
    if (st.leader === node.memberId && st.raftAppliedIndex === st.raftIndex && st.raftIndex >= 3n) return;
    await Bun.sleep(10);
  }
  throw new Error("member did not become leader");
}


test("concurrent puts get consecutive revisions and headers; term starts at 2", async () => {
  const { node } = await open();
  const responses = await Promise.all(
    [0, 1, 2, 3].map((i) => node.put(create(PutRequestSchema, { key: enc.encode(`k${i}`), value: enc.encode("v") }))),
  );
  expect(responses.map((r) => Number(r.header!.revision))).toEqual([2, 3, 4, 5]);
  expect(responses[0].header!.raftTerm).toBe(2n);
  expect(responses[0].header!.memberId).toBe(node.memberId);
  const range = await node.range(create(RangeRequestSchema, { key: enc.encode("k2") }));
  expect(range.kvs[0].modRevision).toBe(4n);
  expect(range.header!.revision).toBe(5n);
});

test("state, IDs and the applied index survive a restart; the term grows", async () => {
  const first = await open();
  await first.node.put(create(PutRequestSchema, { key: enc.encode("a"), value: enc.encode("1") }));
  const ids = [first.node.memberId, first.node.clusterId];
  await first.node.close();
  const { node } = await open(first.dir);
  expect([node.memberId, node.clusterId]).toEqual(ids);
  expect(node.status().raftTerm).toBe(3n);
  expect(node.status().raftAppliedIndex).toBeGreaterThan(3n);
  const put = await node.put(create(PutRequestSchema, { key: enc.encode("a"), value: enc.encode("2") }));
  expect(put.header!.revision).toBe(3n);
});

test("a failing entry rejects only its own caller", async () => {
  const { node } = await open();
  await node.put(create(PutRequestSchema, { key: enc.encode("a"), value: enc.encode("1") }));
  const [bad, good] = await Promise.allSettled([
    node.compact(create(CompactionRequestSchema, { revision: 99n })),
    node.put(create(PutRequestSchema, { key: enc.encode("b"), value: enc.encode("1") })),
  ]);
  expect(bad.status).toBe("rejected");
  expect(((bad as PromiseRejectedResult).reason as ConnectError).code).toBe(Code.OutOfRange);
  expect(good.status).toBe("fulfilled");
});

test("a proposal over maxRequestBytes is rejected with etcd's error", async () => {
  const { node } = await open();
  const err = await node
    .put(create(PutRequestSchema, { key: enc.encode("big"), value: new Uint8Array(2048) }))
    .catch((e) => e);
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).rawMessage).toBe("etcdserver: request is too large");
});

test("a read-only txn does not go through the log", async () => {
  const { node } = await open();
  const before = node.status().raftIndex;
  const res = await node.txn(
    create(TxnRequestSchema, {
      success: [{ request: { case: "requestRange", value: create(RangeRequestSchema, { key: enc.encode("x") }) } }],
    }),
  );
  expect(res.succeeded).toBe(true);
  expect(node.status().raftIndex).toBe(before);
});

test("an entry with no request applies nothing and has no answer (no fake response is recorded for it)", async () => {
  const { node } = await open();
  const before = node.mvcc.currentRevision;
  const out = applyEntry(node, create(InternalRaftRequestSchema, { ID: 5n }));
  expect(out).toEqual({ response: undefined, events: [], revision: before });
});

test("a lone member's puts are all fsynced (each Ready appends and applies them) and the connection stays at synchronous=FULL", async () => {
  const { node } = await open();
  const count = async (h: typeof node.counters.walFsyncSeconds) => (await h.get()).values.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
  const [synced0, commits0] = [await count(node.counters.walFsyncSeconds), await count(node.counters.backendCommitSeconds)];
  for (let i = 0; i < 5; i++) await node.put(create(PutRequestSchema, { key: enc.encode(`s${i}`), value: enc.encode("v") }));
  const synced = (await count(node.counters.walFsyncSeconds)) - synced0;
  const commits = (await count(node.counters.backendCommitSeconds)) - commits0;
  expect(synced).toBeGreaterThanOrEqual(5);
  expect(synced).toBe(commits);
  expect(syncLevel((node as unknown as { db: Database }).db)).toBe(2);
});

test("a lone member keeps no applied write in memory: the log's tail holds at most 2 × 1024 entries, the proposed requests are forgotten", async () => {
  const { node } = await open();
  const internals = node as unknown as { raftStorage: { tail: { data: Uint8Array }[] }; sm: { proposed: WeakMap<Uint8Array, unknown> } };
  for (let i = 0; i < 50; i++) {
    await Promise.all(Array.from({ length: 64 }, (_, j) => node.put(create(PutRequestSchema, { key: enc.encode(`t${j}`), value: enc.encode("v") }))));
  }
  const tail = internals.raftStorage.tail;
  expect(node.status().raftIndex).toBeGreaterThan(3200n);
  expect(tail.length).toBeGreaterThanOrEqual(1024);
  expect(tail.length).toBeLessThanOrEqual(2048);
  expect(tail.filter((e) => internals.sm.proposed.has(e.data))).toEqual([]);
});

test("Defragment drops the Raft log a lone member no longer needs, and the member restarts with its data", async () => {
  const first = await open();
  const value = new Uint8Array(512).fill(7);
  for (let i = 0; i < 50; i++) await first.node.put(create(PutRequestSchema, { key: enc.encode(`k${i}`), value }));
  const db = (first.node as unknown as { db: Database }).db;
  const logRows = () => db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM raft_log").get()!.n;
  expect(logRows()).toBeGreaterThan(50);
  await first.node.defragment();
  expect(logRows()).toBeLessThanOrEqual(1);
  const put = await first.node.put(create(PutRequestSchema, { key: enc.encode("after"), value }));
  expect(put.header!.revision).toBe(52n);
  await first.node.close();
  const { node } = await open(first.dir);
  const range = await node.range(create(RangeRequestSchema, { key: enc.encode("k"), rangeEnd: enc.encode("l"), countOnly: true }));
  expect(range.count).toBe(50n);
  expect((await node.put(create(PutRequestSchema, { key: enc.encode("again"), value }))).header!.revision).toBe(53n);
});
