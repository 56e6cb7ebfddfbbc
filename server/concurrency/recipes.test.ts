/**
 * The Mutex and Election recipes against a real in-process member (EtcdNode): FIFO hand-over
 * between several waiters, withdrawal on abort, lease 0 sessions, resumed campaigns, the order
 * of observed proclamations and the end of a wait on a compacted revision.
 */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { CompactionRequestSchema, LeaseGrantRequestSchema, LeaseTimeToLiveRequestSchema, PutRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { startEtcdNode, type EtcdNode } from "../node/etcd-node.ts";
import { quietNodeLogger, singleMemberConfig, nodesClosedAfterEach } from "../node/testing.ts";
import { MemberClient } from "./client.ts";
import { campaign, leader, observe, proclaim, resign } from "./election.ts";
import { lock, unlock } from "./mutex.ts";
import { waitDelete } from "./wait-deletes.ts";

const { nodes, dirs } = nodesClosedAfterEach();
const enc = new TextEncoder();
const dec = new TextDecoder();

async function member(): Promise<{ node: EtcdNode; client: MemberClient }> {
  const d = mkdtempSync(join(tmpdir(), "etcd-concurrency-"));
  dirs.push(d);
  const node = await startEtcdNode(singleMemberConfig(d), quietNodeLogger);
  nodes.push(node);
  await node.ready();
  for (let i = 0; i < 200 && node.status().leader !== node.memberId; i++) await Bun.sleep(10);
  return { node, client: new MemberClient(node) };
}


async function grant(node: EtcdNode, id: bigint): Promise<bigint> {
  return (await node.leaseGrant(create(LeaseGrantRequestSchema, { ID: id, TTL: 60n }))).ID;
}

const never = new AbortController().signal;

test("waiters get the lock in the order they asked, each when the one before it unlocks", async () => {
  const { node, client } = await member();
  const ids = [0x10n, 0x11n, 0x12n, 0x13n];
  for (const id of ids) await grant(node, id);
  const first = await lock(client, enc.encode("m"), ids[0]!, never);
  const order: string[] = [];
  const waiting = ids.slice(1).map((id) => lock(client, enc.encode("m"), id, never).then((r) => (order.push(dec.decode(r.key)), r)));
  await Bun.sleep(50);
  expect(order).toEqual([]);
  await unlock(client, first.key);
  const second = await waiting[0]!;
  expect(order).toEqual(["m/11"]);
  await unlock(client, second.key);
  await unlock(client, (await waiting[1]!).key);
  await waiting[2];
  expect(order).toEqual(["m/11", "m/12", "m/13"]);
});

test("an aborted waiter deletes its key and fails with Canceled; lease 0 takes a fresh 60 s lease", async () => {
  const { node, client } = await member();
  const held = await lock(client, enc.encode("m"), 0n, never);
  const lease = BigInt(`0x${dec.decode(held.key).split("/")[1]}`);
  expect((await node.leaseTimeToLive(create(LeaseTimeToLiveRequestSchema, { ID: lease }))).grantedTTL).toBe(60n);
  const ac = new AbortController();
  const waiting = lock(client, enc.encode("m"), await grant(node, 0x20n), ac.signal);
  await Bun.sleep(30);
  expect((await client.byCreate(enc.encode("m/"), "last")).kvs.map((kv) => dec.decode(kv.key))).toEqual(["m/20"]);
  ac.abort();
  const e = await waiting.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(ConnectError);
  expect((e as ConnectError).code).toBe(Code.Canceled);
  expect((await client.byCreate(enc.encode("m/"), "last")).kvs.map((kv) => dec.decode(kv.key))).toEqual([dec.decode(held.key)]);
});

test("campaign again with the same lease resumes and proclaims the new value; observe sees every proclamation in order", async () => {
  const { node, client } = await member();
  const [a, b] = [await grant(node, 0x30n), await grant(node, 0x31n)];
  const ac = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const p of observe(client, enc.encode("e"), ac.signal)) seen.push(`${dec.decode(p.kv.key)}=${dec.decode(p.kv.value)}`);
  })().catch(() => {});
  const c1 = await campaign(client, enc.encode("e"), a, enc.encode("v1"), never);
  const again = await campaign(client, enc.encode("e"), a, enc.encode("v2"), never);
  expect(again.leader.rev).toBe(c1.leader.rev);
  expect(dec.decode((await leader(client, enc.encode("e"))).kv.value)).toBe("v2");
  const c2 = campaign(client, enc.encode("e"), b, enc.encode("w1"), never);
  await proclaim(client, c1.leader, enc.encode("v3"));
  await resign(client, c1.leader);
  const won = await c2;
  await expect(proclaim(client, c1.leader, enc.encode("late"))).rejects.toThrow("election: not leader");
  await proclaim(client, won.leader, enc.encode("w2"));
  for (let i = 0; i < 100 && seen.length < 5; i++) await Bun.sleep(10);
  ac.abort();
  await watching;
  expect(seen).toEqual(["e/30=v1", "e/30=v2", "e/30=v3", "e/31=w1", "e/31=w2"]);
});

test("waiting for a deletion from a compacted revision fails as clientv3 reports it (Unknown)", async () => {
  const { node, client } = await member();
  await node.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode("1") }));
  const put = await node.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode("2") }));
  await node.compact(create(CompactionRequestSchema, { revision: put.header!.revision }));
  const e = await waitDelete(client, enc.encode("k"), 1n, never).catch((x: unknown) => x);
  expect([(e as ConnectError).code, (e as ConnectError).rawMessage]).toEqual([Code.Unknown, "etcdserver: mvcc: required revision has been compacted"]);
});
