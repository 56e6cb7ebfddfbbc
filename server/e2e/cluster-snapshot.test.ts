/**
 * A follower that fell far behind catches up by snapshot: in a 3-member cluster with
 * `--snapshot-count 100`, a follower is killed while 5 300 puts go through the leader. The
 * leader snapshots every 100 entries and keeps 5 000 entries behind its snapshot for slow
 * followers (etcd 3.4's snapshotCatchUpEntries, etcdserver/server.go), so the restarted
 * follower's next index is compacted away and the leader must send it a database snapshot
 * (rafthttp snapshot sender). Checked: the follower serves every key afterwards, and the
 * leader logged the snapshot it sent.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, grpcClients } from "./clients.ts";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup } from "./harness.ts";

setDefaultTimeout(120_000);
afterAll(cleanup);

/** Puts written while the follower is down: more than etcd's 5 000 catch-up entries + the snapshot count. */
const PUTS = 5_300;

test("a follower behind by more than --snapshot-count entries catches up by snapshot", async () => {
  const cluster = await TestCluster.start({ extraArgs: ["--snapshot-count", "100"] });
  const leader = await cluster.waitLeader();
  const follower = [0, 1, 2].find((i) => i !== leader.index)!;
  await cluster.kill9(follower);

  const { kv } = grpcClients(cluster.members[leader.index]!.clientUrl);
  const t0 = performance.now();
  let next = 0;
  const writer = async () => {
    for (let n = next++; n < PUTS; n = next++) {
      await kv.put({ key: bytes(`/snap/${String(n).padStart(5, "0")}`), value: bytes(`v${n}`) }, { timeoutMs: 10_000 });
    }
  };
  await Promise.all(Array.from({ length: 32 }, writer));
  console.log(`[snapshot] ${PUTS} puts through the leader in ${(performance.now() - t0).toFixed(0)} ms`);

  const t1 = performance.now();
  await cluster.startMember(follower);
  const lagging = grpcClients(cluster.members[follower]!.clientUrl).kv;
  const deadline = Date.now() + 60_000;
  let count = 0n;
  while (Date.now() < deadline) {
    const r = await lagging.range({ key: bytes("/snap/"), rangeEnd: bytes("/snap0"), serializable: true, countOnly: true });
    count = r.count;
    if (count === BigInt(PUTS)) break;
    await Bun.sleep(100);
  }
  console.log(`[snapshot] restarted follower ${cluster.members[follower]!.name} served all ${count} keys ${(performance.now() - t1).toFixed(0)} ms after its restart`);
  expect(count).toBe(BigInt(PUTS));
  const last = await lagging.range({ key: bytes(`/snap/${String(PUTS - 1).padStart(5, "0")}`), serializable: true });
  expect(new TextDecoder().decode(last.kvs[0]?.value)).toBe(`v${PUTS - 1}`);

  // etcd 3.4 (capnslog): "database snapshot [index: N, to: ID] sent out successfully"; zap and ours: "sent database snapshot".
  expect(cluster.members[leader.index]!.proc!.log()).toMatch(/sent database snapshot|database snapshot \[.*\] sent out successfully/);
  expect(cluster.members[follower]!.proc!.log()).toMatch(/received database snapshot|received and saved database snapshot/);
  // The cluster still takes writes through the caught-up member.
  await cluster.putUntilOk(follower, "/snap/after", "ok");
});
