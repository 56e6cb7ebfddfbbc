/**
 * Leases through the member pipeline (EtcdNode over SQLite) with an injected clock: grant,
 * attach by put, revoke deleting every key in one revision, expiry proposing a revoke through
 * the log, keep-alive, and a restart giving leases their full TTL back.
 */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { rpcError } from "../e2e/clients.ts";
import { startEtcdNode, type EtcdNode } from "../node/etcd-node.ts";
import { quietNodeLogger, singleMemberConfig, nodesClosedAfterEach } from "../node/testing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const { nodes, dirs } = nodesClosedAfterEach();

class FakeClock {
  t = 5_000_000;
  now(): number {
    return this.t;
  }
}

async function open(clock: FakeClock, dir?: string): Promise<{ node: EtcdNode; dir: string }> {
  const d = dir ?? mkdtempSync(join(tmpdir(), "etcd-lease-"));
  if (!dir) dirs.push(d);
  const node = await startEtcdNode(singleMemberConfig(d, { clock }), quietNodeLogger);
  nodes.push(node);
  await node.ready();
  return { node, dir: d };
}


const put = (node: EtcdNode, key: string, lease = 0n) =>
  node.put(create(PutRequestSchema, { key: enc.encode(key), value: enc.encode("v"), lease }));

async function keys(node: EtcdNode): Promise<string[]> {
  const r = await node.range(create(RangeRequestSchema, { key: enc.encode("\0"), rangeEnd: new Uint8Array([0]) }));
  return r.kvs.map((kv) => dec.decode(kv.key));
}

test("grant picks an ID, put attaches, revoke deletes every key in ONE revision", async () => {
  const { node } = await open(new FakeClock());
  const g = await node.leaseGrant({ $typeName: "etcdserverpb.LeaseGrantRequest", ID: 0n, TTL: 60n });
  expect(g.ID > 0n).toBe(true);
  expect(g.TTL).toBe(60n);
  expect(g.header?.memberId).toBe(node.memberId);
  for (const k of ["c", "a", "b"]) await put(node, k, g.ID);
  await put(node, "other");
  const ttl = await node.leaseTimeToLive({ $typeName: "etcdserverpb.LeaseTimeToLiveRequest", ID: g.ID, keys: true });
  expect(ttl.keys.map((k) => dec.decode(k))).toEqual(["a", "b", "c"]);
  const before = node.mvcc.currentRevision;
  const r = await node.leaseRevoke({ $typeName: "etcdserverpb.LeaseRevokeRequest", ID: g.ID });
  expect(r.header?.revision).toBe(BigInt(before + 1));
  expect(node.mvcc.currentRevision).toBe(before + 1);
  expect(await keys(node)).toEqual(["other"]);
  const again = await rpcError(node.leaseRevoke({ $typeName: "etcdserverpb.LeaseRevokeRequest", ID: g.ID }));
  expect(again.rawMessage).toBe("etcdserver: requested lease not found");
});

test("put with an unknown lease fails; a later put moves the key to another lease or none", async () => {
  const { node } = await open(new FakeClock());
  const e = await rpcError(put(node, "k", 42n));
  expect(e.rawMessage).toBe("etcdserver: requested lease not found");
  await node.leaseGrant({ $typeName: "etcdserverpb.LeaseGrantRequest", ID: 1n, TTL: 60n });
  await node.leaseGrant({ $typeName: "etcdserverpb.LeaseGrantRequest", ID: 2n, TTL: 60n });
  await put(node, "k", 1n);
  await put(node, "k", 2n);
  expect([...node.lessor.lookup(1n)!.keys]).toEqual([]);
  expect([...node.lessor.lookup(2n)!.keys]).toEqual(["k"]);
  await put(node, "k");
  expect([...node.lessor.lookup(2n)!.keys]).toEqual([]);
  await put(node, "j", 1n);
  await node.deleteRange({ $typeName: "etcdserverpb.DeleteRangeRequest", key: enc.encode("j"), rangeEnd: new Uint8Array(), prevKv: false });
  expect([...node.lessor.lookup(1n)!.keys]).toEqual([]);
  await node.leaseRevoke({ $typeName: "etcdserverpb.LeaseRevokeRequest", ID: 1n });
  expect(await keys(node)).toEqual(["k"]);
});

test("expiry goes through the log: the expired lease is revoked and its key deleted; keep-alive holds it", async () => {
  const clock = new FakeClock();
  const { node } = await open(clock);
  await node.leaseGrant({ $typeName: "etcdserverpb.LeaseGrantRequest", ID: 1n, TTL: 5n });
  await node.leaseGrant({ $typeName: "etcdserverpb.LeaseGrantRequest", ID: 2n, TTL: 5n });
  await put(node, "dies", 1n);
  await put(node, "lives", 2n);
  clock.t += 4000;
  expect(await node.leaseRenew(2n)).toBe(5n);
  clock.t += 1000;
  expect(node.expireLeases()).toBe(1);
  for (let i = 0; i < 1000 && node.lessor.has(1n); i++) await new Promise((r) => setTimeout(r, 1));
  expect(node.lessor.has(1n)).toBe(false);
  expect(await keys(node)).toEqual(["lives"]);
  expect((await rpcError(node.leaseRenew(1n))).rawMessage).toBe("etcdserver: requested lease not found");
});

test("restart: leases, their keys and attachments survive, with the full TTL again", async () => {
  const clock = new FakeClock();
  const first = await open(clock);
  await first.node.leaseGrant({ $typeName: "etcdserverpb.LeaseGrantRequest", ID: 7n, TTL: 20n });
  await put(first.node, "k", 7n);
  clock.t += 15_000;
  await first.node.close();
  const { node } = await open(clock, first.dir);
  const t = await node.leaseTimeToLive({ $typeName: "etcdserverpb.LeaseTimeToLiveRequest", ID: 7n, keys: true });
  expect([t.TTL, t.grantedTTL]).toEqual([21n, 20n]);
  expect(t.keys.map((k) => dec.decode(k))).toEqual(["k"]);
  const l = await node.leaseLeases();
  expect(l.leases.map((s) => s.ID)).toEqual([7n]);
  await node.leaseRevoke({ $typeName: "etcdserverpb.LeaseRevokeRequest", ID: 7n });
  expect(await keys(node)).toEqual([]);
});
