/**
 * The space quota and alarms through the release binary (or real etcd 3.4 with
 * E2E_ETCD_BIN=/usr/bin/etcd): a small `--quota-backend-bytes` makes puts fail with
 * `etcdserver: mvcc: database space exceeded` and raises NOSPACE; reads and deletes still work;
 * Go etcdctl 3.4 and ours print `alarm list|disarm` alike in every format; `endpoint status`
 * and `/health` show the alarm; it survives a restart; delete + compact + defrag + disarm
 * recover. In a 3-member cluster every member sees the alarm, also one that caught up by
 * snapshot and one restarted.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  cleanup,
  ETCDCTLS,
  type EtcdProcess,
  goEtcdctl,
  httpGet,
  IS_REAL_ETCD,
  ourEtcdctl,
  type RunResult,
  startEtcd,
} from "./harness.ts";
import { TestCluster } from "./cluster-harness.ts";
import { grpcClients } from "./clients.ts";

setDefaultTimeout(120_000);
afterAll(cleanup);

const QUOTA = "300000";
const BIG = "x".repeat(30_000);
const NOSPACE = "etcdserver: mvcc: database space exceeded";

/** Polls `/health?exclude=NOSPACE` (healthy but for the alarm) until 200. */
async function waitServing(endpoint: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await httpGet(endpoint, "/health?exclude=NOSPACE", 1_000)).status === 200) return;
    } catch {
      // not up yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`${endpoint} not serving after ${timeoutMs} ms`);
}

/** Puts 30 kB values through `endpoint` until one is refused; returns that refusal. */
async function fillUntilRefused(endpoint: string): Promise<RunResult> {
  for (let i = 0; i < 80; i++) {
    const r = await goEtcdctl(endpoint, ["put", `k${i}`, BIG]);
    if (r.code !== 0) return r;
    // etcd updates its backend size when its batch commits (every 100 ms).
    await Bun.sleep(30);
  }
  throw new Error("the quota was never reached");
}

/** The member ID (decimal) answering at `endpoint`. */
async function memberIdOf(endpoint: string): Promise<string> {
  const r = await goEtcdctl(endpoint, ["endpoint", "status", "-w", "json"]);
  const m = /"member_id":(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no member_id in ${r.stdout} ${r.stderr}`);
  return m[1]!;
}

describe("single member over its quota", () => {
  let etcd: EtcdProcess;
  let id = "";

  test("puts are refused with NoSpace and the NOSPACE alarm is raised", async () => {
    etcd = await startEtcd({ name: "quota", extraArgs: ["--quota-backend-bytes", QUOTA] });
    id = await memberIdOf(etcd.endpoint);
    const refused = await fillUntilRefused(etcd.endpoint);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Error: ${NOSPACE}`);
  });

  for (const cli of ETCDCTLS) {
    test(`${cli.name}: alarm list in every format, writes refused, reads and deletes allowed`, async () => {
      const ctl = (...args: string[]) => cli.run(etcd.endpoint, args);
      const line = `memberID:${id} alarm:NOSPACE \n`;
      expect(await ctl("alarm", "list")).toMatchObject({ code: 0, stdout: line });
      expect(await ctl("alarm", "list", "-w", "json")).toMatchObject({ code: 0, stdout: `{"alarms":[{"memberID":${id},"alarm":1}]}\n` });
      const table = await ctl("alarm", "list", "-w", "table");
      expect([table.code, table.stderr]).toEqual([4, "Error: table not supported as output format\n"]);
      // etcdctl 3.4 dereferences the missing header.
      const fields = await ctl("alarm", "list", "-w", "fields");
      expect(fields.code).toBe(2);
      expect(fields.stderr.split("\n")[0]).toBe("panic: runtime error: invalid memory address or nil pointer dereference");
      const proto = await ctl("alarm", "list", "-w", "protobuf");
      const goProto = await goEtcdctl(etcd.endpoint, ["alarm", "list", "-w", "protobuf"]);
      expect(proto.stdout).toBe(goProto.stdout);
      expect(proto.stdout.length).toBeGreaterThan(4);

      for (const args of [["put", "small", "v"], ["txn"]]) {
        const r = await cli.run(etcd.endpoint, args, { stdin: "\nput small v\n\n\n" });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(NOSPACE);
      }
      const lease = await ctl("lease", "grant", "10");
      expect(lease.code).toBe(1);
      expect(lease.stderr).toContain(`Error: failed to grant lease (${NOSPACE})`);
      expect(await ctl("get", "k0", "--keys-only")).toMatchObject({ code: 0, stdout: "k0\n\n" });
      expect(await ctl("del", "k1")).toMatchObject({ code: 0 });
      const status = await ctl("endpoint", "status");
      expect(status.code).toBe(0);
      expect(status.stdout.endsWith(`, ${line}`)).toBe(true);
      const json = await ctl("endpoint", "status", "-w", "json");
      expect(json.stdout).toContain(`"errors":["memberID:${id} alarm:NOSPACE "]`);
    });
  }

  test("/health answers 503 {\"health\":\"false\"}, and true when NOSPACE is excluded", async () => {
    const h = await httpGet(etcd.endpoint, "/health");
    expect([h.status, h.body]).toEqual([503, '{"health":"false"}\n']);
    const ex = await httpGet(etcd.endpoint, "/health?exclude=NOSPACE");
    expect([ex.status, ex.body]).toEqual([200, '{"health":"true"}']);
  });

  test("the alarm survives a restart", async () => {
    await etcd.stop(15_000);
    etcd = await startEtcd({
      name: "quota",
      dataDir: etcd.dataDir,
      clientPort: etcd.clientPort,
      peerPort: etcd.peerPort,
      extraArgs: ["--quota-backend-bytes", QUOTA],
      waitReady: false,
    });
    await waitServing(etcd.endpoint);
    expect(await ourEtcdctl(etcd.endpoint, ["alarm", "list"])).toMatchObject({ code: 0, stdout: `memberID:${id} alarm:NOSPACE \n` });
    expect((await goEtcdctl(etcd.endpoint, ["put", "small", "v"])).stderr).toContain(NOSPACE);
  });

  test("delete, compact, defrag and disarm recover; writes work again", async () => {
    expect((await goEtcdctl(etcd.endpoint, ["del", "k", "--prefix"])).code).toBe(0);
    const rev = /"revision":(\d+)/.exec((await goEtcdctl(etcd.endpoint, ["get", "k0", "-w", "json"])).stdout)![1]!;
    expect(await ourEtcdctl(etcd.endpoint, ["compaction", rev])).toMatchObject({ code: 0, stdout: `compacted revision ${rev}\n` });
    for (const cli of ETCDCTLS) {
      expect(await cli.run(etcd.endpoint, ["defrag"])).toMatchObject({ code: 0, stdout: `Finished defragmenting etcd member[${etcd.endpoint}]\n` });
    }
    expect(await ourEtcdctl(etcd.endpoint, ["alarm", "disarm"])).toMatchObject({ code: 0, stdout: `memberID:${id} alarm:NOSPACE \n` });
    expect(await goEtcdctl(etcd.endpoint, ["alarm", "disarm", "-w", "json"])).toMatchObject({ code: 0, stdout: "{}\n" });
    expect(await ourEtcdctl(etcd.endpoint, ["alarm", "disarm", "-w", "json"])).toMatchObject({ code: 0, stdout: "{}\n" });
    expect(await goEtcdctl(etcd.endpoint, ["alarm", "list"])).toMatchObject({ code: 0, stdout: "" });
    expect(await ourEtcdctl(etcd.endpoint, ["put", "again", "v"])).toMatchObject({ code: 0, stdout: "OK\n" });
    const h = await httpGet(etcd.endpoint, "/health");
    expect(h.status).toBe(200);
  });
});

describe("3 members", () => {
  test("every member sees the alarm raised through one, also one that catches up by snapshot; disarm clears it everywhere", async () => {
    // --snapshot-count 50: ours keeps 50 entries behind a snapshot, so a member that missed more catches up by snapshot.
    const cluster = await TestCluster.start({ extraArgs: ["--quota-backend-bytes", QUOTA, "--snapshot-count", "50"] });
    try {
      const ep0 = cluster.members[0]!.clientUrl;
      const id = await memberIdOf(ep0);
      await cluster.members[2]!.proc!.stop(15_000);
      // If member 2 led, a put proposed before the others elect a new leader is lost with it and
      // times out (on etcd too): fill only once the two survivors have a leader.
      await cluster.waitLeader([0, 1]);
      expect((await fillUntilRefused(ep0)).stderr).toContain(NOSPACE);
      // Alarm GETs go through the log too: enough entries for the stopped member to need a snapshot.
      const { maintenance } = grpcClients(ep0);
      for (let i = 0; i < 120; i++) await maintenance.alarm({});
      await cluster.startMember(2, { waitReady: false });
      await waitServing(cluster.members[2]!.clientUrl);
      if (!IS_REAL_ETCD) {
        for (let t = 0; t < 100 && !cluster.members[2]!.proc!.log().includes("applied snapshot"); t++) await Bun.sleep(100);
        expect(cluster.members[2]!.proc!.log()).toContain("applied snapshot");
      }
      const line = `memberID:${id} alarm:NOSPACE \n`;
      for (const m of cluster.members) {
        expect(await ourEtcdctl(m.clientUrl, ["alarm", "list"])).toMatchObject({ code: 0, stdout: line });
      }
      const status = await ourEtcdctl(ep0, ["endpoint", "status", "--cluster"]);
      expect(status.stdout.split("\n").filter((l) => l.endsWith(`, memberID:${id} alarm:NOSPACE `)).length).toBe(3);
      // Every member refuses writes (its own quota check may raise its own alarm too).
      for (const m of cluster.members) expect((await goEtcdctl(m.clientUrl, ["put", "small", "v"])).stderr).toContain(NOSPACE);
      // A restarted member still has it.
      await cluster.members[1]!.proc!.stop(15_000);
      await cluster.startMember(1, { waitReady: false });
      await waitServing(cluster.members[1]!.clientUrl);
      expect((await goEtcdctl(cluster.members[1]!.clientUrl, ["alarm", "list"])).stdout).toContain(line);
      const disarmed = await ourEtcdctl(cluster.members[2]!.clientUrl, ["alarm", "disarm"]);
      expect(disarmed.code).toBe(0);
      expect(disarmed.stdout).toContain(line);
      for (const m of cluster.members) {
        expect(await ourEtcdctl(m.clientUrl, ["alarm", "list"])).toMatchObject({ code: 0, stdout: "" });
      }
    } finally {
      await cluster.stop();
    }
  });
});
