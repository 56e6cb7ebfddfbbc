/**
 * Members of a Raft cluster in one process, joined by the real peer transport: membership
 * changes through Raft (etcd 3.4's Cluster RPC semantics, compared with the real etcd on
 * loopback), joining with `--initial-cluster-state existing`, catch-up by snapshot, MoveLeader,
 * and a minority that times out.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { checkHealth } from "../http/app.ts";
import type { EtcdNode } from "./etcd-node.ts";
import { TestCluster, waitFor } from "./testing.ts";
import { syncLevel } from "./raft-driver.ts";
import type { Database } from "bun:sqlite";

const enc = new TextEncoder();
const put = (node: EtcdNode, key: string, value = "v") =>
  node.put(create(PutRequestSchema, { key: enc.encode(key), value: enc.encode(value) }));
const get = (node: EtcdNode, key: string, serializable = false) =>
  node.range(create(RangeRequestSchema, { key: enc.encode(key), serializable }));

/** The etcd error a promise rejects with (message), or "ok". */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof ConnectError ? e.rawMessage : String(e);
  }
}

const clusters: TestCluster[] = [];
afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
});

describe("membership changes through Raft", () => {
  test("learner added, joins with --initial-cluster-state existing, promoted through a follower, removed", async () => {
    const c = await TestCluster.start(3);
    clusters.push(c);
    await put(await c.leader(), "before-join", "1");
    const follower = await c.follower();

    // MemberAdd on a follower: Raft forwards the conf change; the answer lists the new learner.
    const slot = await c.addSlot();
    const added = await follower.cluster.add([slot.peerUrl], true);
    expect(added.member.isLearner).toBe(true);
    expect(added.member.name).toBe("");
    expect(added.members.map((m) => m.ID)).toContain(added.member.ID);

    // etcd allows one learner; the new learner has not caught up (never started) yet.
    expect(await outcome(follower.cluster.add(["http://127.0.0.1:1"], true))).toBe(Errors.TooManyLearners().rawMessage);
    expect(await outcome(follower.cluster.add([slot.peerUrl, "http://127.0.0.1:9"], false))).toBe(Errors.PeerURLExist().rawMessage);
    expect(await outcome(follower.cluster.promote(added.member.ID))).toBe(Errors.LearnerNotReady().rawMessage);
    expect(await outcome(follower.cluster.promote(follower.memberId))).toBe(Errors.MemberNotLearner().rawMessage);
    expect(await outcome(follower.cluster.promote(12345n))).toBe(Errors.MemberNotFound().rawMessage);
    expect(await outcome(follower.cluster.remove(12345n))).toBe(Errors.MemberNotFound().rawMessage);
    expect(await outcome(follower.cluster.update(12345n, ["http://127.0.0.1:2"]))).toBe(Errors.MemberNotFound().rawMessage);

    // The new member finds its ID and the cluster ID from a peer's GET /members.
    const learner = await c.run(slot, "existing");
    expect(learner.memberId).toBe(added.member.ID);
    expect(learner.clusterId).toBe(follower.clusterId);
    expect(learner.status().isLearner).toBe(true);
    expect(new TextDecoder().decode((await get(learner, "before-join", true)).kvs[0]!.value)).toBe("1");
    // A learner serves Status and serializable reads only (etcd 3.4).
    expect(await outcome(put(learner, "x"))).toBe(Errors.NotSupportedForLearner().rawMessage);
    expect(await outcome(get(learner, "x"))).toBe(Errors.NotSupportedForLearner().rawMessage);
    expect(() => learner.members()).toThrow(Errors.NotSupportedForLearner().rawMessage);
    expect(await checkHealth(learner)).toEqual({ health: "true" });

    // Promotion asked on a follower is forwarded to the leader's peer port.
    await waitFor(async () => (await outcome(follower.cluster.promote(learner.memberId))) === "ok", "the learner to be promoted");
    await waitFor(() => !learner.status().isLearner, "the promotion to reach the learner");
    expect(follower.members().find((m) => m.ID === learner.memberId)?.isLearner).toBe(false);
    await put(learner, "from-new-voter");
    expect(await outcome(follower.cluster.promote(learner.memberId))).toBe(Errors.MemberNotLearner().rawMessage);

    // The removed member stops itself; its ID can never come back.
    const { members } = await follower.cluster.remove(learner.memberId);
    expect(members.map((m) => m.ID)).not.toContain(learner.memberId);
    await learner.removed;
    await c.kill(slot);
    expect(await outcome(follower.cluster.update(learner.memberId, ["http://127.0.0.1:3"]))).toBe(Errors.MemberNotFound().rawMessage);
    await put(follower, "after-remove");
  }, 60_000);

  test("MoveLeader: only on the leader, to a voter", async () => {
    const c = await TestCluster.start(3);
    clusters.push(c);
    const leader = await c.leader();
    const follower = await c.follower();
    expect(await outcome(follower.cluster.moveLeader(leader.memberId))).toBe(Errors.NotLeader().rawMessage);
    expect(await outcome(leader.cluster.moveLeader(999n))).toBe(Errors.BadLeaderTransferee().rawMessage);
    await leader.cluster.moveLeader(follower.memberId);
    expect(follower.raft.isLeader).toBe(true);
    await waitFor(() => leader.status().leader === follower.memberId, "the old leader to follow");
    await put(leader, "after-move");
    // Moving to itself succeeds at once, as in etcd.
    await follower.cluster.moveLeader(follower.memberId);
    await c.stop();
  }, 30_000);
});

describe("catch-up and failures", () => {
  test("a member far behind catches up by snapshot, also after a restart", async () => {
    const c = await TestCluster.start(3, { snapshotCount: 20, catchUpEntries: 5 });
    clusters.push(c);
    const lagging = await c.follower();
    const slot = c.slotOf(lagging);
    await c.kill(slot);
    const leader = await c.leader();
    for (let i = 0; i < 60; i++) await put(leader, `k${i}`, `v${i}`);
    await leader.leaseGrant({ $typeName: "etcdserverpb.LeaseGrantRequest", ID: 77n, TTL: 100n });
    await leader.put(create(PutRequestSchema, { key: enc.encode("leased"), value: enc.encode("x"), lease: 77n }));

    const back = await c.run(slot);
    const target = leader.appliedIndex;
    await waitFor(() => back.appliedIndex >= target, "the member to catch up");
    expect(slot.logs.some((l) => l.msg === "applied snapshot")).toBe(true);
    expect(new TextDecoder().decode((await get(back, "k59", true)).kvs[0]!.value)).toBe("v59");
    expect(back.mvcc.currentRevision).toBe(leader.mvcc.currentRevision);
    expect(back.lessor.leaseOf("leased")).toBe(77n);
    expect(back.members().length).toBe(3);
    // The image went through files (server/node/raft-snapshot-image.ts), none left behind.
    expect(slot.logs.some((l) => l.msg === "received database snapshot" && Number(l["incoming-snapshot-size-bytes"]) > 4096)).toBe(true);
    await waitFor(() => c.slots.every((s) => readdirSync(join(s.dataDir, "member")).every((f) => !f.includes(".snapshot-"))), "snapshot files removed");

    // The installed snapshot survives a restart; the member keeps applying new entries.
    await c.kill(slot);
    const again = await c.run(slot);
    await put(leader, "after");
    await waitFor(async () => (await get(again, "after", true)).kvs.length === 1, "the new entry on the restarted member");
    expect((await get(again, "k10", true)).kvs.length).toBe(1);

    // A member joining after the log was compacted gets a snapshot that already lists it.
    const joining = await c.addSlot();
    const { member } = await leader.cluster.add([joining.peerUrl], true);
    const joined = await c.run(joining, "existing");
    expect(joined.memberId).toBe(member.ID);
    expect(joining.logs.some((l) => l.msg === "applied snapshot")).toBe(true);
    expect((await get(joined, "k59", true)).kvs.length).toBe(1);
    expect(joined.status().isLearner).toBe(true);
  }, 60_000);

  test("Defragment keeps the log entries a stopped follower still needs, and drops them once every peer has them", async () => {
    const c = await TestCluster.start(3);
    clusters.push(c);
    const leader = await c.leader();
    for (let i = 0; i < 20; i++) await put(leader, `d${i}`);
    await waitFor(() => c.slots.every((s) => !s.node || s.node.appliedIndex >= leader.appliedIndex), "every member applied");
    const lagging = await c.follower();
    const slot = c.slotOf(lagging);
    await c.kill(slot);
    const missed = leader.appliedIndex;
    for (let i = 0; i < 20; i++) await put(leader, `e${i}`);
    const db = (leader as unknown as { db: Database }).db;
    const firstLogIndex = () => db.query<{ i: number | null }, []>("SELECT MIN(idx) AS i FROM raft_log").get()!.i ?? Infinity;
    await leader.defragment();
    // The stopped follower's match index bounds the cut: it catches up from the log, not a snapshot.
    expect(firstLogIndex()).toBeLessThanOrEqual(missed + 1);
    const back = await c.run(slot);
    await waitFor(() => back.appliedIndex >= leader.appliedIndex, "the follower to catch up");
    expect(slot.logs.some((l) => l.msg === "applied snapshot")).toBe(false);
    expect((await get(back, "e19", true)).kvs.length).toBe(1);
    // Every peer has everything: the next Defragment drops the whole log up to the applied index.
    await waitFor(() => leader.raft.status().progress!.values().every((p) => p.match >= leader.appliedIndex), "every peer matched");
    await leader.defragment();
    expect(firstLogIndex()).toBeGreaterThan(leader.appliedIndex - 1);
    await put(leader, "after-defrag");
    await waitFor(async () => (await get(back, "after-defrag", true)).kvs.length === 1, "replication after the cut");
  }, 60_000);

  test("a minority times out writes and linearizable reads, serves serializable reads", async () => {
    const c = await TestCluster.start(3, { requestTimeoutMs: 1500 });
    clusters.push(c);
    const survivor = await c.follower();
    await put(survivor, "seen");
    await Promise.all(c.slots.filter((s) => s.node !== survivor).map((s) => c.kill(s)));
    await waitFor(() => survivor.status().leader === 0n, "the survivor to lose its leader");

    const failed = await put(survivor, "lost").then(
      () => undefined,
      (e: ConnectError) => e,
    );
    // Never taken by Raft (no leader): Go's context deadline error, as etcd 3.4 answers.
    expect([failed?.code, failed?.rawMessage]).toEqual([Code.Unknown, "context deadline exceeded"]);
    expect(await outcome(get(survivor, "seen"))).toBe(Errors.Timeout().rawMessage);
    expect((await get(survivor, "seen", true)).kvs.length).toBe(1);
    expect(survivor.status().errors).toEqual(["etcdserver: no leader"]);
    expect(await checkHealth(survivor)).toEqual({ health: "false" });
  }, 30_000);
});

describe("durability", () => {
  test("commits that only apply (no new entry, term or vote) skip their fsync on leader and followers; the level stays synchronous=FULL", async () => {
    const c = await TestCluster.start(3);
    clusters.push(c);
    const leader = await c.leader();
    const count = async (h: EtcdNode["counters"]["walFsyncSeconds"]) => (await h.get()).values.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
    for (let i = 0; i < 5; i++) expect(await outcome(put(leader, `d${i}`))).toBe("ok");
    await waitFor(async () => {
      for (const m of c.running()) if ((await get(m, "d4", true)).kvs.length !== 1) return false;
      return true;
    }, "the puts applied everywhere");
    for (const m of c.running()) {
      const synced = await count(m.counters.walFsyncSeconds);
      const commits = await count(m.counters.backendCommitSeconds);
      expect(synced).toBeGreaterThan(0);
      expect(commits).toBeGreaterThan(synced);
      expect(syncLevel((m as unknown as { db: Database }).db)).toBe(2);
    }
  }, 30_000);
});
