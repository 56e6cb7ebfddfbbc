/**
 * `etcdctl snapshot save|status|restore`: ours under Bun and under Deno against Go etcdctl 3.4,
 * on snapshots of the real etcd 3.4: same stdout, same `Error:` lines, same exit codes (the
 * JSON log lines on stderr carry times and are compared by message only).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GO_ETCDCTL, OUR_ETCDCTL, OUR_ETCDCTL_DENO } from "./testing/etcd-cluster.ts";
import { placeEtcd, runProcess, startEtcd, type EtcdProcess } from "./testing/etcd-process.ts";

const dir = mkdtempSync(join(tmpdir(), "etcdctl-snapshot-"));
const dec = new TextDecoder();
let etcd: EtcdProcess;
const goFile = join(dir, "go.db");

async function ctl(cmd: string[], args: string[]) {
  const r = await runProcess(cmd, args, "", { ETCDCTL_API: "3", PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" });
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  return {
    stdout: dec.decode(r.stdout),
    errors: lines.filter((l) => !l.startsWith("{")),
    logs: lines.filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { msg: string }).msg),
    code: r.code,
  };
}

beforeAll(async () => {
  etcd = await startEtcd(await placeEtcd());
  for (let i = 0; i < 30; i++) await ctl(GO_ETCDCTL, ["--endpoints", etcd.endpoint, "put", `k${i % 9}`, `v${i}`]);
  await ctl(GO_ETCDCTL, ["--endpoints", etcd.endpoint, "del", "k3"]);
  expect((await ctl(GO_ETCDCTL, ["--endpoints", etcd.endpoint, "snapshot", "save", goFile])).code).toBe(0);
}, 30_000);

afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const [runtime, ours] of [["bun", OUR_ETCDCTL], ["deno", OUR_ETCDCTL_DENO]] as const) {
  describe(`our etcdctl under ${runtime}`, () => {
    test("save: same file content, messages and log lines as Go's", async () => {
      const file = join(dir, `${runtime}.db`);
      const r = await ctl(ours, ["--endpoints", etcd.endpoint, "snapshot", "save", file]);
      const go = await ctl(GO_ETCDCTL, ["--endpoints", etcd.endpoint, "snapshot", "save", join(dir, `go-${runtime}.db`)]);
      expect(r.stdout).toBe(`Snapshot saved at ${file}\n`);
      expect(r.logs).toEqual(go.logs);
      expect(r.code).toBe(0);
      // Same data as Go's save at the same revision: the same status (hash over every bucket).
      const a = await ctl(GO_ETCDCTL, ["snapshot", "status", file, "-w", "json"]);
      const b = await ctl(GO_ETCDCTL, ["snapshot", "status", goFile, "-w", "json"]);
      expect(a.stdout).toBe(b.stdout);
    }, 30_000);

    test("save errors", async () => {
      for (const args of [
        ["--endpoints", `${etcd.endpoint},127.0.0.1:1`, "snapshot", "save", join(dir, "x.db")],
        ["--endpoints", etcd.endpoint, "snapshot", "save"],
        ["--endpoints", etcd.endpoint, "snapshot", "save", join(dir, "no-such-dir", "x.db")],
      ]) {
        const [r, go] = [await ctl(ours, args), await ctl(GO_ETCDCTL, args)];
        expect({ args, out: r.stdout, err: r.errors, code: r.code }).toEqual({ args, out: go.stdout, err: go.errors, code: go.code });
      }
    }, 30_000);

    test("status in every format, and its errors", async () => {
      for (const args of [
        ...["simple", "json", "fields", "table", "protobuf"].map((w) => ["snapshot", "status", goFile, "-w", w]),
        ["snapshot", "status"],
        ["snapshot", "status", join(dir, "missing.db")],
        ["snapshot", "status", "/etc/hostname"],
      ]) {
        const [r, go] = [await ctl(ours, args), await ctl(GO_ETCDCTL, args)];
        expect({ args, out: r.stdout, err: r.errors, code: r.code }).toEqual({ args, out: go.stdout, err: go.errors, code: go.code });
      }
    }, 30_000);

    test("restore and its errors", async () => {
      const corrupt = join(dir, "corrupt.db");
      const bytes = readFileSync(goFile);
      bytes[bytes.length - 100] ^= 1;
      writeFileSync(corrupt, bytes);
      const base = ["snapshot", "restore"];
      const cluster = ["--name", "m1", "--initial-cluster", "m1=http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380"];
      let n = 0;
      const fresh = () => join(dir, `${runtime}-restore-${n++}`);
      for (const args of [
        [...base],
        [...base, goFile, "--data-dir", dir, ...cluster],
        [...base, goFile, "--data-dir", "{NEW}", "--name", "m9", "--initial-cluster", "m1=http://127.0.0.1:2380"],
        [...base, goFile, "--data-dir", "{NEW}", "--initial-cluster", "default=nope"],
        [...base, goFile, "--data-dir", "{NEW}", ...cluster.slice(0, 4), "--initial-advertise-peer-urls", "http://127.0.0.1:2381"],
        [...base, join(dir, "missing.db"), "--data-dir", "{NEW}", ...cluster],
        [...base, corrupt, "--data-dir", "{NEW}", ...cluster],
        [...base, goFile, "--data-dir", "{NEW}", ...cluster],
      ]) {
        const mine = args.map((a) => (a === "{NEW}" ? fresh() : a));
        const theirs = args.map((a) => (a === "{NEW}" ? fresh() : a));
        const [r, go] = [await ctl(ours, mine), await ctl(GO_ETCDCTL, theirs)];
        expect({ args, out: r.stdout, err: r.errors, code: r.code, logs: r.logs }).toEqual({
          args,
          out: go.stdout,
          err: go.errors,
          code: go.code,
          logs: go.logs,
        });
        const target = mine[mine.indexOf("--data-dir") + 1];
        if (target && target !== dir) expect(existsSync(join(target, "member", "db"))).toBe(r.code === 0);
      }
    }, 60_000);
  });
}
