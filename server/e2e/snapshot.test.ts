/**
 * Backup and restore in etcd's snapshot format, end to end through the release binaries:
 * - the server under test → Go `etcdctl snapshot save` → Go `snapshot status` → Go
 *   `snapshot restore` → the real etcd 3.4 serves the same keys, revisions and leases;
 * - the real etcd 3.4 → `snapshot save` → our `etcdctl snapshot restore` → the server under
 *   test serves its data; ours → ours; a 3-member cluster restored from one snapshot;
 * - a corrupt or truncated snapshot is refused with etcd's errors and nothing written.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AlarmRequest_AlarmAction, AlarmType } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { TestCluster } from "./cluster-harness.ts";
import { grpcClients } from "./clients.ts";
import {
  cleanup,
  freePort,
  goEtcdctl,
  GO_ETCDCTL,
  IS_REAL_ETCD,
  makeTempDir,
  OUR_ETCDCTL_IS_GO_34,
  ourEtcdctlBin,
  run,
  startEtcd,
  type EtcdProcess,
} from "./harness.ts";

afterAll(cleanup, 30_000);

const REAL_ETCD = "/usr/bin/etcd";

/** What a client sees of a store: every key with its revisions, the store revision, leases. */
type Seen = { revision: string; kvs: unknown[]; leases: string[] };

/** Writes keys (overwrites, a delete, a leased key) through Go etcdctl; returns the lease ID (hex). */
async function populate(endpoint: string): Promise<string> {
  const ctl = (args: string[], stdin?: string) => goEtcdctl(endpoint, args, { stdin });
  for (let i = 0; i < 20; i++) expect((await ctl(["put", `key/${i % 7}`, `value ${i}`])).code).toBe(0);
  expect((await ctl(["del", "key/3"])).code).toBe(0);
  const grant = await ctl(["lease", "grant", "600"]);
  const lease = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]!;
  expect((await ctl(["put", "leased", "v", "--lease", lease])).code).toBe(0);
  expect((await ctl(["put", "big", "B".repeat(10_000)])).code).toBe(0);
  return lease;
}

async function seen(endpoint: string): Promise<Seen> {
  const get = await goEtcdctl(endpoint, ["get", "", "--from-key", "-w", "json"]);
  expect(get.code).toBe(0);
  const j = JSON.parse(get.stdout) as { header: { revision: number }; kvs: unknown[] };
  const leases = await goEtcdctl(endpoint, ["lease", "list"]);
  return {
    revision: String(j.header.revision),
    kvs: j.kvs,
    leases: leases.stdout.split("\n").slice(1).filter((l) => l !== ""),
  };
}

/** Go etcdctl's `snapshot status -w json` of `file`. */
async function goStatus(file: string): Promise<{ hash: number; revision: number; totalKey: number; totalSize: number }> {
  const r = await run([GO_ETCDCTL, "snapshot", "status", file, "-w", "json"], { env: { ETCDCTL_API: "3" } });
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout);
}

/** Restores `file` with `ctl` (an etcdctl command) into a new data dir for a one-member cluster `name`. */
async function restoreOne(ctl: string[], file: string, name: string, peerPort: number, extra: string[] = []) {
  const dataDir = join(makeTempDir("restore"), `${name}.etcd`);
  const peer = `http://127.0.0.1:${peerPort}`;
  const r = await run([...ctl, "snapshot", "restore", file, "--data-dir", dataDir, "--name", name, "--initial-cluster", `${name}=${peer}`, "--initial-advertise-peer-urls", peer, ...extra], {
    env: { ETCDCTL_API: "3" },
  });
  return { ...r, dataDir };
}

describe("snapshot save by Go etcdctl from the server under test", () => {
  let srv: EtcdProcess;
  let before: Seen;
  let lease: string;
  const dir = makeTempDir("snap");
  const file = join(dir, "backup.db");

  test("save and status", async () => {
    srv = await startEtcd({ name: "src" });
    lease = await populate(srv.endpoint);
    before = await seen(srv.endpoint);
    expect(before.leases).toEqual([lease]);
    const save = await goEtcdctl(srv.endpoint, ["snapshot", "save", file]);
    expect(save.code).toBe(0);
    expect(save.stdout).toBe(`Snapshot saved at ${file}\n`);
    expect(readFileSync(file).length % 4096).toBe(32);
    const st = await goStatus(file);
    expect(st.revision).toBe(Number(before.revision));
    await srv.stop();
  }, 60_000);

  test("Go etcdctl restores it and the real etcd 3.4 serves the same keys, revisions and leases", async () => {
    const peerPort = await freePort();
    const r = await restoreOne([GO_ETCDCTL], file, "restored", peerPort);
    expect(r.code).toBe(0);
    const real = await startEtcd({ name: "restored", dataDir: r.dataDir, peerPort, bin: REAL_ETCD });
    const after = await seen(real.endpoint);
    expect(after).toEqual(before);
    const ttl = await goEtcdctl(real.endpoint, ["lease", "timetolive", lease, "--keys"]);
    expect(ttl.stdout).toContain("attached keys([leased])");
    // It goes on from the restored revision.
    const put = await goEtcdctl(real.endpoint, ["put", "next", "x", "-w", "json"]);
    expect(JSON.parse(put.stdout).header.revision).toBe(Number(before.revision) + 1);
    await real.stop();
  }, 60_000);
});

/** Our etcdctl (ETCDCTL_API=3) with `args`. */
function ours(args: string[]) {
  return run([ourEtcdctlBin(), ...args], { env: { ETCDCTL_API: "3" } });
}

/** Go's and our etcdctl print the same `snapshot status` in every format. */
async function sameStatus(file: string): Promise<void> {
  for (const w of ["simple", "json", "fields", "table", "protobuf"]) {
    const go = await run([GO_ETCDCTL, "snapshot", "status", file, "-w", w], { env: { ETCDCTL_API: "3" } });
    const our = await ours(["snapshot", "status", file, "-w", w]);
    expect({ w, out: our.stdout, err: our.stderr, code: our.code }).toEqual({ w, out: go.stdout, err: go.stderr, code: go.code });
  }
}

describe("snapshot restore by our etcdctl", () => {
  test("from the real etcd 3.4: the server under test serves its keys, revisions and leases", async () => {
    const real = await startEtcd({ name: "real", bin: REAL_ETCD });
    const lease = await populate(real.endpoint);
    await goEtcdctl(real.endpoint, ["compaction", "5"]);
    const before = await seen(real.endpoint);
    const file = join(makeTempDir("snap"), "real.db");
    expect((await goEtcdctl(real.endpoint, ["snapshot", "save", file])).code).toBe(0);
    await real.stop();
    await sameStatus(file);

    const peerPort = await freePort();
    const r = await restoreOne([ourEtcdctlBin()], file, "mine", peerPort);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`"msg":"restored snapshot"`);
    const srv = await startEtcd({ name: "mine", dataDir: r.dataDir, peerPort });
    expect(await seen(srv.endpoint)).toEqual(before);
    const ttl = await goEtcdctl(srv.endpoint, ["lease", "timetolive", lease, "--keys"]);
    expect(ttl.stdout).toContain("attached keys([leased])");
    const old = await goEtcdctl(srv.endpoint, ["get", "key/1", "--rev", "4"]);
    expect(old.stderr).toContain("required revision has been compacted");
    const put = await goEtcdctl(srv.endpoint, ["put", "next", "x", "-w", "json"]);
    expect(JSON.parse(put.stdout).header.revision).toBe(Number(before.revision) + 1);
    await srv.stop();
  }, 90_000);

  test("ours to ours: save and status as Go etcdctl prints them, restore, --bump-revision --mark-compacted", async () => {
    const src = await startEtcd({ name: "src2" });
    await populate(src.endpoint);
    const before = await seen(src.endpoint);
    const dir = makeTempDir("snap");
    const file = join(dir, "ours.db");
    const save = await ours([`--endpoints=${src.endpoint}`, "snapshot", "save", file]);
    expect(save.stdout).toBe(`Snapshot saved at ${file}\n`);
    expect(save.code).toBe(0);
    expect(save.stderr).toContain(`"msg":"fetched snapshot"`);
    expect(existsSync(`${file}.part`)).toBe(false);
    const two = await ours([`--endpoints=${src.endpoint},127.0.0.1:1`, "snapshot", "save", join(dir, "x.db")]);
    expect(two.stderr).toBe(`Error: snapshot must be requested to one selected node, not multiple [${src.endpoint} 127.0.0.1:1]\n`);
    expect(two.code).toBe(5);
    await src.stop();
    await sameStatus(file);

    const peerPort = await freePort();
    const r = await restoreOne([ourEtcdctlBin()], file, "copy", peerPort);
    expect(r.code).toBe(0);
    const srv = await startEtcd({ name: "copy", dataDir: r.dataDir, peerPort });
    expect(await seen(srv.endpoint)).toEqual(before);
    await srv.stop();

    // etcd 3.5.10+'s flags: Go etcdctl 3.4 (validating this test) has none.
    if (OUR_ETCDCTL_IS_GO_34) return;
    const peer2 = await freePort();
    const bumped = await restoreOne([ourEtcdctlBin()], file, "bumped", peer2, ["--bump-revision", "1000", "--mark-compacted"]);
    expect(bumped.code).toBe(0);
    const srv2 = await startEtcd({ name: "bumped", dataDir: bumped.dataDir, peerPort: peer2 });
    const put = await goEtcdctl(srv2.endpoint, ["put", "after", "x", "-w", "json"]);
    expect(JSON.parse(put.stdout).header.revision).toBe(Number(before.revision) + 1001);
    const old = await goEtcdctl(srv2.endpoint, ["get", "key/1", "--rev", before.revision]);
    expect(old.stderr).toContain("required revision has been compacted");
    expect((await goEtcdctl(srv2.endpoint, ["get", "leased", "--print-value-only"])).stdout).toBe("v\n");
    await srv2.stop();
  }, 90_000);

  test("a corrupt or truncated snapshot is refused with etcd's errors and nothing is written", async () => {
    const real = await startEtcd({ name: "real2", bin: REAL_ETCD });
    await populate(real.endpoint);
    const dir = makeTempDir("snap");
    const file = join(dir, "good.db");
    expect((await goEtcdctl(real.endpoint, ["snapshot", "save", file])).code).toBe(0);
    await real.stop();
    const bytes = readFileSync(file);
    const corrupt = join(dir, "corrupt.db");
    const flipped = Buffer.from(bytes);
    flipped[5000] ^= 0xff;
    writeFileSync(corrupt, flipped);
    const truncated = join(dir, "truncated.db");
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));

    for (const [f, error] of [
      [corrupt, /^Error: expected sha256 \[[0-9 ]+\], got \[[0-9 ]+\]\n$/],
      [truncated, /^Error: snapshot missing hash but --skip-hash-check=false\n$/],
    ] as const) {
      const peerPort = await freePort();
      const go = await restoreOne([GO_ETCDCTL], f, "x", peerPort);
      const our = await restoreOne([ourEtcdctlBin()], f, "x", peerPort);
      expect(go.stderr.split("\n").filter((l) => !l.startsWith("{")).join("\n")).toMatch(error);
      expect(our.stderr.split("\n").filter((l) => !l.startsWith("{")).join("\n")).toMatch(error);
      expect([our.code, go.code]).toEqual([1, 1]);
      // Go etcdctl leaves the half-written data dir behind; ours writes nothing.
      if (!OUR_ETCDCTL_IS_GO_34) expect(existsSync(our.dataDir)).toBe(false);
    }
    // Go's etcdctl crashes (SIGBUS) or reads past the end on a truncated file; ours reports bbolt's check.
    if (OUR_ETCDCTL_IS_GO_34) return;
    const st = await ours(["snapshot", "status", truncated]);
    expect(st.stderr).toStartWith("Error: snapshot file integrity check failed. ");
    expect(st.code).toBe(1);
  }, 90_000);

  test("a 3-member cluster restored from one snapshot serves its data on every member", async () => {
    const src = await startEtcd({ name: "src3" });
    await populate(src.endpoint);
    const before = await seen(src.endpoint);
    const file = join(makeTempDir("snap"), "cluster.db");
    expect((await ours([`--endpoints=${src.endpoint}`, "snapshot", "save", file])).code).toBe(0);
    await src.stop();

    const cluster = await TestCluster.slots({ size: 3 });
    for (const m of cluster.members) {
      const r = await ours([
        "snapshot", "restore", file,
        "--data-dir", m.dataDir,
        "--name", m.name,
        "--initial-cluster", cluster.initialCluster(),
        "--initial-cluster-token", cluster.token,
        "--initial-advertise-peer-urls", m.peerUrl,
      ]);
      expect(r.code).toBe(0);
    }
    await cluster.startAll();
    for (const m of cluster.members) expect(await seen(m.clientUrl)).toEqual(before);
    const members = await goEtcdctl(cluster.members[0]!.clientUrl, ["member", "list"]);
    expect(members.stdout.trim().split("\n").length).toBe(3);
    const put = await goEtcdctl(cluster.members[1]!.clientUrl, ["put", "after", "restore"]);
    expect(put.code).toBe(0);
    for (const m of cluster.members) {
      const get = await goEtcdctl(m.clientUrl, ["get", "after", "--print-value-only"]);
      expect(get.stdout).toBe("restore\n");
    }
    await cluster.stop();
  }, 120_000);
});

describe("snapshots with authentication", () => {
  test("root only; users, roles and permissions survive both restores", async () => {
    const src = await startEtcd({ name: "auth" });
    const ctl = (args: string[]) => goEtcdctl(src.endpoint, args);
    for (const args of [
      ["user", "add", "root:rootpw"],
      ["user", "add", "alice:alicepw"],
      ["role", "add", "reader"],
      ["role", "grant-permission", "reader", "read", "app/", "--prefix"],
      ["user", "grant-role", "alice", "reader"],
      ["put", "app/x", "1"],
      ["put", "secret", "2"],
      ["auth", "enable"],
    ]) {
      expect((await ctl(args)).code).toBe(0);
    }
    const dir = makeTempDir("snap");
    const file = join(dir, "auth.db");
    const denied = await ctl(["--user", "alice:alicepw", "snapshot", "save", join(dir, "no.db")]);
    expect(denied.stderr).toContain("Error: rpc error: code = Unknown desc = auth: permission denied");
    expect(denied.code).toBe(5);
    expect(existsSync(join(dir, "no.db"))).toBe(false);
    expect((await ctl(["--user", "root:rootpw", "snapshot", "save", file])).code).toBe(0);
    await src.stop();

    const check = async (endpoint: string) => {
      const c = (args: string[]) => goEtcdctl(endpoint, args);
      expect((await c(["get", "app/x"])).stderr).toContain("etcdserver: user name is empty");
      expect((await c(["--user", "alice:alicepw", "get", "app/x", "--print-value-only"])).stdout).toBe("1\n");
      expect((await c(["--user", "alice:alicepw", "get", "secret"])).stderr).toContain("etcdserver: permission denied");
      expect((await c(["--user", "alice:wrong", "get", "app/x"])).stderr).toContain("authentication failed");
      expect((await c(["--user", "root:rootpw", "role", "get", "reader"])).stdout).toBe(
        "Role reader\nKV Read:\n\t[app/, app0) (prefix app/)\nKV Write:\n",
      );
    };
    const p1 = await freePort();
    const go = await restoreOne([GO_ETCDCTL], file, "a1", p1);
    expect(go.code).toBe(0);
    const real = await startEtcd({ name: "a1", dataDir: go.dataDir, peerPort: p1, bin: REAL_ETCD });
    await check(real.endpoint);
    await real.stop();
    const p2 = await freePort();
    const our = await restoreOne([ourEtcdctlBin()], file, "a2", p2);
    expect(our.code).toBe(0);
    const mine = await startEtcd({ name: "a2", dataDir: our.dataDir, peerPort: p2 });
    await check(mine.endpoint);
    await mine.stop();
  }, 90_000);
});

describe("snapshots with alarms", () => {
  test("a raised NOSPACE alarm is in the snapshot; Go's restore into etcd 3.4 and ours keep it", async () => {
    const src = await startEtcd({ name: "alarmed" });
    expect((await goEtcdctl(src.endpoint, ["put", "k", "v"])).code).toBe(0);
    const status = await grpcClients(src.endpoint).maintenance.status({});
    const memberID = status.header!.memberId;
    await grpcClients(src.endpoint).maintenance.alarm({ action: AlarmRequest_AlarmAction.ACTIVATE, memberID, alarm: AlarmType.NOSPACE });
    const listed = (await goEtcdctl(src.endpoint, ["alarm", "list"])).stdout;
    expect(listed).toBe(`memberID:${memberID} alarm:NOSPACE \n`);
    const file = join(makeTempDir("snap"), "alarmed.db");
    expect((await goEtcdctl(src.endpoint, ["snapshot", "save", file])).code).toBe(0);
    await src.stop();
    for (const [ctl, bin] of [[GO_ETCDCTL, REAL_ETCD], [ourEtcdctlBin(), undefined]] as const) {
      const peerPort = await freePort();
      const r = await restoreOne([ctl], file, "kept", peerPort);
      expect(r.code).toBe(0);
      const srv = await startEtcd({ name: "kept", dataDir: r.dataDir, peerPort, bin, waitReady: false });
      for (let i = 0; i < 100 && (await goEtcdctl(srv.endpoint, ["get", "k"], { timeoutMs: 3_000 })).code !== 0; i++) await Bun.sleep(100);
      expect((await goEtcdctl(srv.endpoint, ["alarm", "list"])).stdout).toBe(listed);
      expect((await goEtcdctl(srv.endpoint, ["put", "k", "w"])).stderr).toContain("etcdserver: mvcc: database space exceeded");
      await srv.stop();
    }
  }, 90_000);
});

describe("snapshot transfer", () => {
  test("20,000 keys (deep bbolt trees, overflow pages) go through Go's restore into etcd 3.4, which reads and writes them", async () => {
    const srv = await startEtcd({ name: "many" });
    const b64 = (t: string) => Buffer.from(t).toString("base64");
    for (let batch = 0; batch < 160; batch++) {
      const success = Array.from({ length: 125 }, (_, i) => {
        const n = batch * 125 + i;
        return { requestPut: { key: b64(`many/${String(n).padStart(5, "0")}`), value: b64(n % 1000 === 0 ? "L".repeat(10_000) : `v${n}`) } };
      });
      const res = await fetch(`${srv.endpoint}/v3/kv/txn`, { method: "POST", body: JSON.stringify({ success }) });
      expect(res.status).toBe(200);
    }
    const before = await goEtcdctl(srv.endpoint, ["get", "many/", "--prefix", "--limit", "1", "-w", "json"]);
    const file = join(makeTempDir("snap"), "many.db");
    expect((await goEtcdctl(srv.endpoint, ["snapshot", "save", file])).code).toBe(0);
    await srv.stop();
    const peerPort = await freePort();
    const r = await restoreOne([GO_ETCDCTL], file, "many2", peerPort);
    expect(r.code).toBe(0);
    const real = await startEtcd({ name: "many2", dataDir: r.dataDir, peerPort, bin: REAL_ETCD });
    const after = await goEtcdctl(real.endpoint, ["get", "many/", "--prefix", "--limit", "1", "-w", "json"]);
    expect(JSON.parse(after.stdout).count).toBe(20_000);
    expect(JSON.parse(after.stdout).header.revision).toBe(JSON.parse(before.stdout).header.revision);
    expect((await goEtcdctl(real.endpoint, ["get", "many/13000", "--print-value-only"])).stdout).toBe(`${"L".repeat(10_000)}\n`);
    // etcd splits and rewrites our full pages.
    for (let i = 0; i < 50; i++) expect((await goEtcdctl(real.endpoint, ["put", `many/${String(i * 400).padStart(5, "0")}x`, "new"])).code).toBe(0);
    expect((await goEtcdctl(real.endpoint, ["del", "many/0", "--prefix"])).stdout).toBe("10025\n");
    await real.stop();
  }, 120_000);

  // Our temporary files live in the data dir; the real etcd has none to look for.
  test.skipIf(IS_REAL_ETCD)("a client gone mid-snapshot leaves no temporary files; the member serves on", async () => {
    const srv = await startEtcd({ name: "abort" });
    const big = "x".repeat(1_000_000);
    for (let i = 0; i < 30; i++) expect((await goEtcdctl(srv.endpoint, ["put", `k${i}`], { stdin: big })).code).toBe(0);
    const temporary = () => readdirSync(join(srv.dataDir, "member")).filter((f) => f.includes("snapshot"));
    const save = Bun.spawn([GO_ETCDCTL, `--endpoints=${srv.endpoint}`, "snapshot", "save", join(makeTempDir("snap"), "gone.db")], {
      env: { ...process.env, ETCDCTL_API: "3" },
      stdout: "ignore",
      stderr: "ignore",
    });
    for (let i = 0; i < 400 && temporary().length === 0; i++) await Bun.sleep(5);
    expect(temporary().length).toBeGreaterThan(0);
    save.kill("SIGKILL");
    await save.exited;
    for (let i = 0; i < 200 && temporary().length > 0; i++) await Bun.sleep(10);
    expect(temporary()).toEqual([]);
    expect((await goEtcdctl(srv.endpoint, ["put", "after", "ok"])).stdout).toBe("OK\n");
    await srv.stop();
  }, 90_000);
});
