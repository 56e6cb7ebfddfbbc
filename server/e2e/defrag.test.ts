/**
 * Defragment under load through the release binary (or real etcd 3.4 with
 * E2E_ETCD_BIN=/usr/bin/etcd): a 3-member cluster holding ~16 MB of history that a compaction
 * freed; while 8 writers keep putting through the leader, `etcdctl defrag --cluster` (ours, then
 * Go's) gives the space back: no put fails, the leader and term stay, every member's dbSize
 * shrinks, and dbSizeInUse never exceeds dbSize.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, grpcClients } from "./clients.ts";
import { cleanup, goEtcdctl, ourEtcdctl } from "./harness.ts";
import { TestCluster } from "./cluster-harness.ts";

setDefaultTimeout(180_000);
afterAll(cleanup);

test("defrag --cluster under a put load: no failed request, no leader change, smaller files", async () => {
  // A snapshot every 1000 entries lets ours drop the Raft log of the history too.
  const cluster = await TestCluster.start({ extraArgs: ["--snapshot-count", "1000"] });
  try {
    const leader = await cluster.waitLeader();
    const ep = cluster.members[leader.index]!.clientUrl;
    const { kv } = grpcClients(ep);
    const value = bytes("v".repeat(4096));
    let last = 0n;
    for (let i = 0; i < 4000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => kv.put({ key: bytes(`fill/${(i + j) % 500}`), value })));
      last = batch.reduce((m, r) => (r.header!.revision > m ? r.header!.revision : m), last);
    }
    await kv.deleteRange({ key: bytes("fill/"), rangeEnd: bytes("fill0") });
    await kv.compact({ revision: last + 1n, physical: true });
    // Let followers apply the compaction.
    await Bun.sleep(1_000);
    const before = await Promise.all(cluster.members.map((_, i) => cluster.status(i)));
    for (const s of before) expect(s!.dbSizeInUse).toBeLessThanOrEqual(s!.dbSize);

    let stop = false;
    let acknowledged = 0;
    const failures: string[] = [];
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let n = 0; !stop; n++) {
        try {
          await kv.put({ key: bytes(`load/${w}/${n % 20}`), value: bytes(`${n}`) }, { timeoutMs: 10_000 });
          acknowledged++;
        } catch (e) {
          failures.push(String(e));
        }
      }
    });
    await Bun.sleep(300);
    for (const run of [ourEtcdctl, goEtcdctl]) {
      const r = await run(ep, ["defrag", "--cluster", "--command-timeout", "60s"]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split("\n").sort()).toEqual(cluster.members.map((m) => `Finished defragmenting etcd member[${m.clientUrl}]`).sort());
    }
    await Bun.sleep(300);
    stop = true;
    await Promise.all(writers);
    expect(failures).toEqual([]);
    expect(acknowledged).toBeGreaterThan(50);

    const after = await Promise.all(cluster.members.map((_, i) => cluster.status(i)));
    for (const [i, s] of after.entries()) {
      expect(s!.leader).toBe(leader.id);
      expect(s!.raftTerm).toBe(leader.term);
      expect(s!.dbSize).toBeLessThan(before[i]!.dbSize / 2n);
      expect(s!.dbSizeInUse).toBeLessThanOrEqual(s!.dbSize);
    }
  } finally {
    await cluster.stop();
  }
});
