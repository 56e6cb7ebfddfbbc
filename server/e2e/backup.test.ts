/**
 * etcd's v2 disaster recovery with our data dir (etcd 3.4 Documentation/v2/admin_guide.md
 * "Disaster Recovery"): a member's data dir backed up while the member is stopped
 * (`ETCDCTL_API=2 etcdctl backup --data-dir --backup-dir [--with-v3]`, our etcdctl), then
 * `etcd --force-new-cluster` on the backup: a one-member cluster with a new member ID that
 * serves the old v2 and v3 data and takes writes. Also `--force-new-cluster` on a member of a
 * three-member cluster, in place. Through the release binaries; our data dir format only.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanup, goEtcdctl, IS_REAL_ETCD, makeTempDir, ourEtcdctlBin, run, startEtcd, freePort } from "./harness.ts";

afterAll(async () => {
  await cleanup();
});

const backup = (args: string[]) => run([ourEtcdctlBin(), "backup", ...args], { env: { ETCDCTL_API: "2" } });

/** Sets v2 key `key` to `value` (PUT /v2/keys, the member runs with --enable-v2). */
async function v2Set(endpoint: string, key: string, value: string): Promise<void> {
  const r = await fetch(`${endpoint}/v2/keys/${key}`, { method: "PUT", body: new URLSearchParams({ value }) });
  expect(r.status).toBe(201);
}

/** The value of v2 key `key`, or the error code etcd's v2 API answers with (100: not found). */
async function v2Get(endpoint: string, key: string): Promise<string | number> {
  const body = (await (await fetch(`${endpoint}/v2/keys/${key}`)).json()) as { node?: { value: string }; errorCode?: number };
  return body.node?.value ?? body.errorCode!;
}

async function memberLines(endpoint: string): Promise<string[]> {
  const r = await goEtcdctl(endpoint, ["member", "list"]);
  expect(r.code).toBe(0);
  return r.stdout.trim().split("\n");
}

describe.skipIf(IS_REAL_ETCD)("etcdctl backup + etcd --force-new-cluster (our data dir)", () => {
  test("a stopped member's backup starts as a new one-member cluster with the v2 and v3 data (--with-v3)", async () => {
    const original = await startEtcd({ name: "orig", extraArgs: ["--enable-v2"] });
    for (let i = 0; i < 5; i++) expect((await goEtcdctl(original.endpoint, ["put", `k${i}`, `v${i}`])).code).toBe(0);
    await v2Set(original.endpoint, "v2dir/a", "v2value");
    const lease = await goEtcdctl(original.endpoint, ["lease", "grant", "3600"]);
    const leaseId = /lease ([0-9a-f]+) granted/.exec(lease.stdout)![1]!;
    expect((await goEtcdctl(original.endpoint, ["put", "leased", "x", "--lease", leaseId])).code).toBe(0);
    const [oldMember] = await memberLines(original.endpoint);

    // A running member holds its data dir: the backup refuses instead of copying a moving target,
    // also after a snapshot save copied the member's backend file (a copy through a descriptor of
    // its own once dropped SQLite's lock).
    const dir = makeTempDir("backup");
    expect((await goEtcdctl(original.endpoint, ["snapshot", "save", join(dir, "snap.db")])).code).toBe(0);
    const busy = await backup(["--data-dir", original.dataDir, "--backup-dir", join(dir, "busy"), "--with-v3"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} I \| database is locked \(stop the member on .* first\)\n$/);
    await original.stop();

    const backupDir = join(dir, "backup.etcd");
    const r = await backup(["--data-dir", original.dataDir, "--backup-dir", backupDir, "--with-v3"]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""]);
    const again = await backup(["--data-dir", original.dataDir, "--backup-dir", backupDir, "--with-v3"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${join(backupDir, "member", "db")} exists`);

    const restored = await startEtcd({ name: "restored", dataDir: backupDir, extraArgs: ["--force-new-cluster", "--enable-v2"] });
    const members = await memberLines(restored.endpoint);
    expect(members.length).toBe(1);
    expect(members[0]).toContain(", started, restored, ");
    expect(members[0]!.split(", ")[0]).not.toBe(oldMember!.split(", ")[0]);
    const get = await goEtcdctl(restored.endpoint, ["get", "k", "--prefix", "--print-value-only"]);
    expect(get.stdout).toBe("v0\nv1\nv2\nv3\nv4\n");
    expect(await v2Get(restored.endpoint, "v2dir/a")).toBe("v2value");
    const ttl = await goEtcdctl(restored.endpoint, ["lease", "timetolive", leaseId, "--keys"]);
    expect(ttl.stdout).toContain("attached keys([leased])");
    expect((await goEtcdctl(restored.endpoint, ["put", "after", "restore"])).code).toBe(0);
    await restored.stop();
    // It restarts on its own data without the flag.
    const again2 = await startEtcd({ name: "restored", dataDir: backupDir, clientPort: restored.clientPort, peerPort: restored.peerPort });
    expect((await goEtcdctl(again2.endpoint, ["get", "after", "--print-value-only"])).stdout).toBe("restore\n");
    await again2.stop();
  }, 90_000);

  test("without --with-v3 the v3 keyspace stays behind and the v2 store comes along, as etcd's v2 backup", async () => {
    const original = await startEtcd({ name: "orig2", extraArgs: ["--enable-v2"] });
    expect((await goEtcdctl(original.endpoint, ["put", "v3key", "v"])).code).toBe(0);
    await v2Set(original.endpoint, "v2key", "kept");
    await original.stop();
    const backupDir = join(makeTempDir("backup"), "b.etcd");
    expect((await backup(["--data-dir", original.dataDir, "--backup-dir", backupDir])).code).toBe(0);
    const restored = await startEtcd({ name: "b", dataDir: backupDir, extraArgs: ["--force-new-cluster", "--enable-v2"] });
    const get = await goEtcdctl(restored.endpoint, ["get", "v3key"]);
    expect([get.code, get.stdout]).toEqual([0, ""]);
    expect(await v2Get(restored.endpoint, "v2key")).toBe("kept");
    expect(await v2Get(restored.endpoint, "missing")).toBe(100);
    expect((await memberLines(restored.endpoint)).length).toBe(1);
  }, 60_000);

  test("backup flags this data dir has no use for are refused, a missing data dir is reported", async () => {
    const dir = makeTempDir("backup");
    const wal = await backup(["--data-dir", dir, "--backup-dir", join(dir, "b"), "--wal-dir", dir]);
    expect(wal.code).toBe(1);
    expect(wal.stderr).toContain("--wal-dir is not supported");
    const missing = await backup(["--data-dir", join(dir, "nope"), "--backup-dir", join(dir, "b")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`I | open ${join(dir, "nope", "member", "db")}: no such file or directory`);
  });

  test("--force-new-cluster on a member of a stopped three-member cluster keeps its ID and data", async () => {
    const ports = await Promise.all([0, 1, 2].map(async () => ({ client: await freePort(), peer: await freePort() })));
    const cluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(",");
    const dir = makeTempDir("force");
    const members = await Promise.all(
      ports.map((p, i) =>
        startEtcd({ name: `m${i}`, dataDir: join(dir, `m${i}.etcd`), clientPort: p.client, peerPort: p.peer, standardFlags: false, waitReady: false, extraArgs: [
          "--name", `m${i}`, "--data-dir", join(dir, `m${i}.etcd`),
          "--listen-client-urls", `http://127.0.0.1:${p.client}`, "--advertise-client-urls", `http://127.0.0.1:${p.client}`,
          "--listen-peer-urls", `http://127.0.0.1:${p.peer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${p.peer}`,
          "--initial-cluster", cluster,
        ] }),
      ),
    );
    const { waitHealthy } = await import("./harness.ts");
    await Promise.all(members.map((m) => waitHealthy(m, 40_000)));
    expect((await goEtcdctl(members[0]!.endpoint, ["put", "shared", "yes"])).code).toBe(0);
    const id = (await goEtcdctl(members[1]!.endpoint, ["endpoint", "status"])).stdout.split(", ")[1];
    await Promise.all(members.map((m) => m.stop()));
    const alone = await startEtcd({ name: "m1", dataDir: join(dir, "m1.etcd"), clientPort: ports[1]!.client, peerPort: ports[1]!.peer, extraArgs: ["--force-new-cluster"] });
    const lines = await memberLines(alone.endpoint);
    expect(lines.length).toBe(1);
    expect(lines[0]!.startsWith(`${id}, started, m1, `)).toBe(true);
    expect((await goEtcdctl(alone.endpoint, ["get", "shared", "--print-value-only"])).stdout).toBe("yes\n");
    expect((await goEtcdctl(alone.endpoint, ["put", "solo", "ok"])).code).toBe(0);
    expect(alone.log()).toContain('"msg":"forcing restart member"');
  }, 90_000);
});
