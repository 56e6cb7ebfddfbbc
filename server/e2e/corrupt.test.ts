/**
 * The corruption check through the release binary: a follower whose SQLite file was edited while
 * it was stopped (one value changed in `kv`) makes the leader's periodic check
 * (`--experimental-corrupt-check-time 1s`) raise CORRUPT (`alarm:CORRUPT`, member ID 0 as etcd
 * 3.4.23), after which writes fail with `etcdserver: corrupt cluster` and reads still work; the
 * same member restarted with `--experimental-initial-corrupt-check` refuses to start.
 * Ours only: real etcd's bbolt file cannot be edited the same way (skipped with E2E_ETCD_BIN).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { bytes, grpcClients } from "./clients.ts";
import { cleanup, goEtcdctl, IS_REAL_ETCD, ourEtcdctl, startEtcd } from "./harness.ts";
import { TestCluster } from "./cluster-harness.ts";

setDefaultTimeout(120_000);
afterAll(cleanup);

test.skipIf(IS_REAL_ETCD)("an edited row on a follower raises CORRUPT; the initial check refuses to start it", async () => {
  const cluster = await TestCluster.start({ extraArgs: ["--experimental-corrupt-check-time", "1s"] });
  try {
    const leader = await cluster.waitLeader();
    const ep = cluster.members[leader.index]!.clientUrl;
    const { kv } = grpcClients(ep);
    let last = 0n;
    for (let i = 0; i < 20; i++) last = (await kv.put({ key: bytes(`c${i}`), value: bytes(`v${i}`) })).header!.revision;
    const f = (leader.index + 1) % 3;
    const follower = cluster.members[f]!;
    for (let t = 0; t < 100 && (await cluster.status(f))?.header?.revision !== last; t++) await Bun.sleep(50);
    // Healthy cluster: several checks pass.
    await Bun.sleep(2_500);
    expect(await goEtcdctl(ep, ["alarm", "list"])).toMatchObject({ code: 0, stdout: "" });

    await follower.proc!.stop(15_000);
    const db = new Database(join(follower.dataDir, "member", "db"));
    const changed = db.run("UPDATE kv SET value = ? WHERE id = (SELECT max(id) FROM kv WHERE tombstone = 0)", [bytes("corrupted")]);
    expect(changed.changes).toBe(1);
    db.close();

    // The same member with the start-up check: it finds the mismatch and exits.
    const checked = await startEtcd({
      name: follower.name,
      standardFlags: false,
      dataDir: follower.dataDir,
      clientPort: follower.clientPort,
      peerPort: follower.peerPort,
      extraArgs: [...cluster.flags(f, "new", cluster.initialCluster()), "--experimental-initial-corrupt-check"],
      waitReady: false,
    });
    const code = await Promise.race([checked.exited, Bun.sleep(30_000).then(() => "still running")]);
    expect(code).not.toBe(0);
    expect(code).not.toBe("still running");
    expect(checked.log()).toContain("found data inconsistency with peers");

    await cluster.startMember(f, { waitReady: false });
    let list = "";
    for (let t = 0; t < 200 && list === ""; t++) {
      await Bun.sleep(100);
      list = (await ourEtcdctl(ep, ["alarm", "list"])).stdout;
    }
    expect(list).toBe("alarm:CORRUPT \n");
    expect(await goEtcdctl(ep, ["alarm", "list"])).toMatchObject({ code: 0, stdout: list });
    const put = await goEtcdctl(ep, ["put", "after", "x"]);
    expect(put.code).toBe(1);
    expect(put.stderr).toContain("Error: etcdserver: corrupt cluster");
    expect(await ourEtcdctl(ep, ["get", "c0", "--print-value-only"])).toMatchObject({ code: 0, stdout: "v0\n" });
    expect((await ourEtcdctl(ep, ["endpoint", "status"])).stdout).toContain(", alarm:CORRUPT \n");
  } finally {
    await cluster.stop();
  }
});
