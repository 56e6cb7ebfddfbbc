/**
 * Backup and restore in etcd's snapshot format, end to end through the release binaries:
 * - the server under test → Go `etcdctl snapshot save` → Go `snapshot status` → Go
 *   `snapshot restore` → the real etcd 3.4 serves the same keys, revisions and leases;
 * - the real etcd 3.4 → `snapshot save` → our `etcdctl snapshot restore` → the server under
 *   test serves its data; ours → ours; a 3-member cluster restored from one snapshot;
 * - a corrupt or truncated snapshot is refused with etcd's errors and nothing written.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, freePort, goEtcdctl, makeTempDir, run, startEtcd, type EtcdProcess, GO_ETCDCTL } from "./harness.ts";

afterAll(cleanup);

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
