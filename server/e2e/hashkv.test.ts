/**
 * HashKV across a 3-member cluster through the release binary (or real etcd 3.4 with
 * E2E_ETCD_BIN=/usr/bin/etcd): after writes, a compaction, a kill -9 of the leader, more writes
 * through the new one and the restart of the killed member, every member answers the same hash at
 * the same revision; `endpoint hashkv --cluster [--rev]` prints alike with Go etcdctl and ours.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, grpcClients } from "./clients.ts";
import { cleanup, goEtcdctl, ourEtcdctl } from "./harness.ts";
import { TestCluster } from "./cluster-harness.ts";

setDefaultTimeout(120_000);
afterAll(cleanup);

/** Waits until every member's store revision is `rev`. */
async function waitRevision(cluster: TestCluster, rev: bigint): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const statuses = await Promise.all(cluster.members.map((_, i) => cluster.status(i)));
    if (statuses.every((s) => s?.header?.revision === rev)) return;
    await Bun.sleep(100);
  }
  throw new Error(`members did not all reach revision ${rev}`);
}

test("every member has the same HashKV after failover and restart", async () => {
  // With --snapshot-count 50 ours keeps 50 entries behind a snapshot: the restarted member catches up by snapshot.
  const cluster = await TestCluster.start({ extraArgs: ["--snapshot-count", "50"] });
  try {
    let leader = await cluster.waitLeader();
    let kv = grpcClients(cluster.members[leader.index]!.clientUrl).kv;
    let last = 0n;
    for (let i = 0; i < 150; i++) last = (await kv.put({ key: bytes(`k${i % 40}`), value: bytes(`v${i}`) })).header!.revision;
    await kv.compact({ revision: last - 50n, physical: true });
    await cluster.kill9(leader.index);
    const killed = leader.index;
    leader = await cluster.waitLeader(cluster.running());
    kv = grpcClients(cluster.members[leader.index]!.clientUrl).kv;
    for (let i = 0; i < 100; i++) {
      const r = i % 10 === 0 ? await kv.deleteRange({ key: bytes(`k${i % 40}`) }) : await kv.put({ key: bytes(`k${i % 40}`), value: bytes(`w${i}`) });
      last = r.header!.revision;
    }
    await cluster.startMember(killed);
    await waitRevision(cluster, last);

    const hashes = await Promise.all(cluster.members.map((m) => grpcClients(m.clientUrl).maintenance.hashKV({ revision: 0n })));
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
    expect(new Set(hashes.map((h) => h.compactRevision)).size).toBe(1);
    expect(hashes[0]!.compactRevision).toBeGreaterThan(0n);

    const ep = cluster.members[leader.index]!.clientUrl;
    for (const args of [["endpoint", "hashkv", "--cluster"], ["endpoint", "hashkv", "--cluster", "--rev", String(last - 20n)]]) {
      const go = await goEtcdctl(ep, args);
      const ours = await ourEtcdctl(ep, args);
      expect(go.code).toBe(0);
      const lines = go.stdout.trim().split("\n");
      expect(lines.length).toBe(3);
      expect(new Set(lines.map((l) => l.split(", ")[1])).size).toBe(1);
      expect(ours).toEqual(go);
    }
    const json = await ourEtcdctl(ep, ["endpoint", "hashkv", "-w", "json"]);
    expect(json.stdout).toContain(`"compact_revision":${hashes[0]!.compactRevision}`);
  } finally {
    await cluster.stop();
  }
});
