/**
 * Locks and elections across a 3-member cluster of the release `etcd` (or `E2E_ETCD_BIN`): the
 * Lock and Election services of different members (followers forward the writes, serve the
 * reads by ReadIndex and their watchers from their own applied log) hand a lock and a leadership
 * on between clients of different members, and a holder's lease expiring hands it on even after
 * the leader that granted it was killed.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Lease } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Election } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { Lock } from "../../proto/gen/v3lockpb/v3lock_pb.ts";
import { bytes, settlesWithin, text } from "./clients.ts";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup } from "./harness.ts";

setDefaultTimeout(90_000);

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start();
});
afterAll(cleanup);

interface MemberClients {
  lock: Client<typeof Lock>;
  election: Client<typeof Election>;
  lease: Client<typeof Lease>;
}

function clientsOf(i: number): MemberClients {
  const t = createGrpcTransport({ baseUrl: cluster.members[i]!.clientUrl });
  return { lock: createClient(Lock, t), election: createClient(Election, t), lease: createClient(Lease, t) };
}

test("a lock held through one follower is handed to a waiter on the other follower; elections alike", async () => {
  const { index: leader } = await cluster.waitLeader();
  const [f1, f2] = [0, 1, 2].filter((i) => i !== leader) as [number, number];
  const [a, b, l] = [clientsOf(f1), clientsOf(f2), clientsOf(leader)];
  const la = (await a.lease.leaseGrant({ ID: 0xa1n, TTL: 60n })).ID;
  const lb = (await b.lease.leaseGrant({ ID: 0xb1n, TTL: 60n })).ID;
  const held = await a.lock.lock({ name: bytes("cl"), lease: la });
  expect(text(held.key)).toBe("cl/a1");
  const waiting = b.lock.lock({ name: bytes("cl"), lease: lb });
  expect(await settlesWithin(waiting, 500)).toBe(false);
  await l.lock.unlock({ key: held.key });
  expect(text((await waiting).key)).toBe("cl/b1");

  const seen: string[] = [];
  const ac = new AbortController();
  void (async () => {
    for await (const r of l.election.observe({ name: bytes("ce") }, { signal: ac.signal })) seen.push(text(r.kv!.value));
  })().catch(() => {});
  const c1 = await a.election.campaign({ name: bytes("ce"), lease: la, value: bytes("from-a") });
  const c2 = b.election.campaign({ name: bytes("ce"), lease: lb, value: bytes("from-b") });
  expect(await settlesWithin(c2, 500)).toBe(false);
  await l.election.resign({ leader: c1.leader });
  expect(text((await c2).leader!.key)).toBe("ce/b1");
  expect(text((await a.election.leader({ name: bytes("ce") })).kv!.value)).toBe("from-b");
  for (let i = 0; i < 100 && seen.length < 2; i++) await Bun.sleep(50);
  ac.abort();
  expect(seen).toEqual(["from-a", "from-b"]);
});

test("the holder's lease expires after the leader is killed: the next leader hands the lock on", async () => {
  const { index: leader } = await cluster.waitLeader();
  const others = cluster.running().filter((i) => i !== leader);
  const [a, b] = [clientsOf(others[0]!), clientsOf(others[1]!)];
  const short = (await a.lease.leaseGrant({ ID: 0xc1n, TTL: 3n })).ID;
  const long = (await b.lease.leaseGrant({ ID: 0xd1n, TTL: 60n })).ID;
  await a.lock.lock({ name: bytes("failover"), lease: short });
  const waiting = b.lock.lock({ name: bytes("failover"), lease: long });
  expect(await settlesWithin(waiting, 300)).toBe(false);
  await cluster.kill9(leader);
  const got = await waiting;
  expect(text(got.key)).toBe("failover/d1");
});
