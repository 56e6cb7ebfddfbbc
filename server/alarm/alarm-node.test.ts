import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import {
  AlarmRequestSchema,
  AlarmRequest_AlarmAction,
  AlarmType,
  CompactionRequestSchema,
  DeleteRangeRequestSchema,
  LeaseGrantRequestSchema,
  LeaseRevokeRequestSchema,
  PutRequestSchema,
  RangeRequestSchema,
  RequestOpSchema,
  TxnRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { startEtcdNode, type EtcdNode } from "../node/etcd-node.ts";
import { quietNodeLogger, singleMemberConfig, TestCluster, waitFor, nodesClosedAfterEach } from "../node/testing.ts";
import { alarmString } from "./store.ts";

const { nodes, dirs } = nodesClosedAfterEach();
const enc = new TextEncoder();

async function open(dir: string, quotaBackendBytes: number): Promise<EtcdNode> {
  const node = await startEtcdNode({ ...singleMemberConfig(dir), quotaBackendBytes }, quietNodeLogger);
  nodes.push(node);
  await node.ready();
  return node;
}

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "alarm-node-"));
  dirs.push(d);
  return d;
}


const put = (k: string, v: Uint8Array | string) => create(PutRequestSchema, { key: enc.encode(k), value: typeof v === "string" ? enc.encode(v) : v });

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof ConnectError ? `${e.code} ${e.rawMessage}` : String(e);
  }
}

const NOSPACE = "8 etcdserver: mvcc: database space exceeded";

test("over the quota: NOSPACE raised, puts/txn puts/lease grants refused, reads/deletes/compaction pass, disarm restores", async () => {
  const dir = tmp();
  const node = await open(dir, 200 * 1024);
  const big = new Uint8Array(50 * 1024).fill(97);
  let i = 0;
  let err = "ok";
  while (err === "ok" && i < 20) err = await errorOf(node.put(put(`k${i++}`, big)));
  expect(err).toBe(NOSPACE);
  expect(node.alarmList().map(alarmString)).toEqual([`memberID:${node.memberId} alarm:NOSPACE `]);
  expect(node.status().errors).toEqual([`memberID:${node.memberId} alarm:NOSPACE `]);
  // A small put fits the quota check but the capped applier refuses it.
  expect(await errorOf(node.put(put("small", "x")))).toBe(NOSPACE);
  const txnPut = create(TxnRequestSchema, { success: [create(RequestOpSchema, { request: { case: "requestPut", value: put("t", "x") } })] });
  expect(await errorOf(node.txn(txnPut))).toBe(NOSPACE);
  expect(await errorOf(node.leaseGrant(create(LeaseGrantRequestSchema, { TTL: 60n })))).toBe(NOSPACE);
  const got = await node.range(create(RangeRequestSchema, { key: enc.encode("k0") }));
  expect(got.kvs.length).toBe(1);
  const del = await node.deleteRange(create(DeleteRangeRequestSchema, { key: enc.encode("k0") }));
  expect(del.deleted).toBe(1n);
  await node.compact(create(CompactionRequestSchema, { revision: del.header!.revision }));
  const list = await node.alarm(create(AlarmRequestSchema, { action: AlarmRequest_AlarmAction.GET }));
  expect(list.header).toBeUndefined();
  expect(list.alarms.map((a) => [a.memberID, a.alarm])).toEqual([[node.memberId, AlarmType.NOSPACE]]);
  const off = await node.alarm(create(AlarmRequestSchema, { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: node.memberId, alarm: AlarmType.NOSPACE }));
  expect(off.alarms.length).toBe(1);
  expect(node.alarmList()).toEqual([]);
  const again = await node.alarm(create(AlarmRequestSchema, { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: node.memberId, alarm: AlarmType.NOSPACE }));
  expect(again.alarms).toEqual([]);
});

test("alarms survive a restart; CORRUPT refuses writes but not reads; a negative quota disables it", async () => {
  const dir = tmp();
  let node = await open(dir, -1);
  await node.put(put("a", "1"));
  await node.alarm(create(AlarmRequestSchema, { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: 7n, alarm: AlarmType.CORRUPT }));
  await node.alarm(create(AlarmRequestSchema, { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: node.memberId, alarm: AlarmType.NOSPACE }));
  await node.close();
  nodes.length = 0;
  node = await open(dir, -1);
  expect(node.alarmList().map((a) => [a.memberID, a.alarm])).toEqual([
    [node.memberId, AlarmType.NOSPACE],
    [7n, AlarmType.CORRUPT],
  ]);
  expect(await errorOf(node.put(put("b", "2")))).toBe("15 etcdserver: corrupt cluster");
  expect(await errorOf(node.deleteRange(create(DeleteRangeRequestSchema, { key: enc.encode("a") })))).toBe("15 etcdserver: corrupt cluster");
  expect(await errorOf(node.leaseRevoke(create(LeaseRevokeRequestSchema, { ID: 5n })))).toBe("15 etcdserver: corrupt cluster");
  expect((await node.range(create(RangeRequestSchema, { key: enc.encode("a") }))).kvs.length).toBe(1);
  await node.alarm(create(AlarmRequestSchema, { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: 7n, alarm: AlarmType.CORRUPT }));
  expect(await errorOf(node.put(put("b", "2")))).toBe(NOSPACE);
});

test("the quota leaves the Raft log out (etcd counts its bbolt file, not its WAL)", async () => {
  const dir = tmp();
  // Without a quota first: the history below must not hit it before its compaction.
  const writer = await open(dir, -1);
  const big = new Uint8Array(40 * 1024).fill(98);
  // 8 x 40 kB through the log in Txns whose compare fails: the Raft log keeps ~320 kB, the kv
  // table nothing (no compaction or Defragment, which would drop the log: RaftDriver.compactLogNow).
  for (let i = 0; i < 8; i++) {
    const txn = create(TxnRequestSchema, {
      compare: [{ key: enc.encode("absent"), target: 3 /* VALUE */, result: 0 /* EQUAL */, targetUnion: { case: "value", value: enc.encode("x") } }],
      success: [create(RequestOpSchema, { request: { case: "requestPut", value: put("big", big) } })],
    });
    expect((await writer.txn(txn)).succeeded).toBe(false);
  }
  await writer.close();
  nodes.length = 0;
  const node = await open(dir, 400 * 1024);
  expect(node.backendSize).toBeGreaterThan(300 * 1024);
  // 300 kB + 100 kB > 400 kB with the Raft log counted; it fits without.
  expect(await errorOf(node.put(put("fits", new Uint8Array(100 * 1024))))).toBe("ok");
  expect(node.alarmList()).toEqual([]);
});

test("apply-time quota (etcd's quotaApplierV3): puts admitted together but over the quota when applied are applied, answered NOSPACE, and raise the alarm", async () => {
  const dir = tmp();
  const warnings: string[] = [];
  const logger = { info() {}, warn: (msg: string) => void warnings.push(msg) };
  // A quota just above today's size: every put below passes the API's check (it sees the size
  // before any of them is applied), the later ones no longer fit once the earlier are applied.
  const sized = await startEtcdNode({ ...singleMemberConfig(dir), quotaBackendBytes: 0 }, quietNodeLogger);
  const quota = sized.backendSize + 300 * 1024;
  await sized.close();
  const n = await startEtcdNode({ ...singleMemberConfig(dir), quotaBackendBytes: quota }, logger);
  nodes.push(n);
  await n.ready();
  const value = new Uint8Array(60 * 1024).fill(99);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => errorOf(n.put(put(`q${i}`, value)))));
  expect(results).toContain("ok");
  expect(results).toContain(NOSPACE);
  expect(results.every((r) => r === "ok" || r === NOSPACE)).toBe(true);
  // As etcd, a put refused at apply time was applied all the same.
  for (let i = 0; i < 12; i++) expect((await n.range(create(RangeRequestSchema, { key: enc.encode(`q${i}`) }))).kvs.length).toBe(1);
  expect(warnings).toContain("message exceeded backend quota; raising alarm");
  for (let i = 0; i < 100 && n.alarmList().length === 0; i++) await Bun.sleep(10);
  expect(n.alarmList().map(alarmString)).toEqual([`memberID:${n.memberId} alarm:NOSPACE `]);
  expect(await errorOf(n.put(put("after", "x")))).toBe(NOSPACE);
});

test("apply-time quota on 3 members: each member that applies an entry over the quota raises NOSPACE for itself", async () => {
  const probe = await startEtcdNode({ ...singleMemberConfig(tmp()), quotaBackendBytes: 0 }, quietNodeLogger);
  const baseBytes = probe.backendSize;
  await probe.close();
  const cluster = await TestCluster.start(3, { quotaBackendBytes: baseBytes + 600 * 1024, maxRequestBytes: 1.5 * 1024 * 1024 });
  try {
    const leader = await cluster.leader();
    const value = new Uint8Array(100 * 1024).fill(100);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => errorOf(leader.put(put(`c${i}`, value)))));
    expect(results).toContain(NOSPACE);
    await waitFor(() => cluster.running().every((m) => m.alarmList().length === 3), "NOSPACE raised by every member");
    const ids = cluster.running().map((m) => m.memberId).sort();
    for (const m of cluster.running()) {
      expect(m.alarmList().map((a) => [a.memberID, a.alarm]).sort()).toEqual(ids.map((id) => [id, AlarmType.NOSPACE]));
    }
  } finally {
    await cluster.stop();
  }
}, 60_000);
