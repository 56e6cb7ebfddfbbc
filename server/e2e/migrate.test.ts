/**
 * `etcdctl migrate` (etcd 3.4 moves a stopped member's v2 keys into v3), through the release
 * binaries and compared with the real thing: the same v2 writes go to our member and to etcd
 * 3.4 (`--enable-v2`); each is stopped, migrated by its own etcdctl (ours on our data dir, Go's
 * on etcd's), restarted, and the v3 keys read back with the Go etcdctl must be equal (key,
 * value, create and mod revision, version), as must the command's output (less the zap lines
 * etcd's membership code logs while it replays the WAL, which has no counterpart here: our v2
 * store is read from its table). Also `--no-ttl`, a
 * `--transformer` program, and a store without v2 keys.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, etcdBin, goEtcdctl, IS_REAL_ETCD, makeTempDir, ourEtcdctlBin, run, startEtcd, type EtcdProcess } from "./harness.ts";

afterAll(async () => {
  await cleanup();
});

const REAL_ETCD = "/usr/bin/etcd";

async function v2Put(endpoint: string, path: string, form: Record<string, string>): Promise<void> {
  const r = await fetch(`${endpoint}/v2/keys/${path}`, { method: "PUT", body: new URLSearchParams(form) });
  expect(r.status).toBeLessThan(300);
}

/** The writes both servers get: files, a directory, a hidden key, an overwritten key, a TTL key. */
async function writeV2(endpoint: string): Promise<void> {
  await v2Put(endpoint, "top", { value: "1" });
  await v2Put(endpoint, "dir/b", { value: "b" });
  await v2Put(endpoint, "dir/a", { value: "a" });
  await v2Put(endpoint, "empty", { dir: "true" });
  await v2Put(endpoint, "_hidden", { value: "h" });
  await v2Put(endpoint, "top", { value: "2" });
  await v2Put(endpoint, "ttl", { value: "t", ttl: "3600" });
}

/** The v3 keys as `key value create mod version` lines (Go etcdctl, JSON output). */
async function v3Keys(m: EtcdProcess): Promise<string[]> {
  const r = await goEtcdctl(m.endpoint, ["get", "", "--from-key", "-w", "json"]);
  expect(r.code).toBe(0);
  const kvs = (JSON.parse(r.stdout) as { kvs?: { key: string; value: string; create_revision: number; mod_revision: number; version: number }[] }).kvs ?? [];
  const text = (b64: string) => Buffer.from(b64, "base64").toString();
  return kvs.map((kv) => `${text(kv.key)} ${text(kv.value)} ${kv.create_revision} ${kv.mod_revision} ${kv.version}`);
}

/** Writes, stops, migrates with `ctl` and `args`, restarts; the migrate result and the v3 keys. */
async function migrated(bin: string, ctl: string, args: string[], write = writeV2): Promise<{ code: number; stdout: string; keys: string[] }> {
  const m = await startEtcd({ name: "mig", bin, extraArgs: ["--enable-v2"] });
  await write(m.endpoint);
  await m.stop();
  const r = await run([ctl, "migrate", "--data-dir", m.dataDir, ...args], { env: { ETCDCTL_API: "3" } });
  const again = await startEtcd({ name: "mig", bin, dataDir: m.dataDir, clientPort: m.clientPort, peerPort: m.peerPort });
  const keys = await v3Keys(again);
  await again.stop();
  const stdout = r.stdout.split("\n").filter((l) => !l.startsWith('{"level":')).join("\n");
  return { code: r.code ?? -1, stdout, keys };
}

describe.skipIf(IS_REAL_ETCD)("etcdctl migrate (our data dir) against etcd 3.4's", () => {
  test("the default transformer: the same v3 keys, revisions and output as etcd's", async () => {
    const ours = await migrated(etcdBin(), ourEtcdctlBin(), []);
    const real = await migrated(REAL_ETCD, "/usr/bin/etcdctl", []);
    expect(ours).toEqual(real);
    expect(ours.stdout).toBe("using default transformer\nfinished transforming keys\n");
    expect(ours.keys.map((l) => l.split(" ").slice(0, 2).join("="))).toEqual(["/dir/a=a", "/dir/b=b", "/top=2", "/ttl=t"]);
  }, 120_000);

  test("--no-ttl leaves out keys with a TTL, as etcd's", async () => {
    const ours = await migrated(etcdBin(), ourEtcdctlBin(), ["--no-ttl"]);
    const real = await migrated(REAL_ETCD, "/usr/bin/etcdctl", ["--no-ttl"]);
    expect(ours).toEqual(real);
    expect(ours.keys.some((l) => l.startsWith("/ttl "))).toBe(false);
  }, 120_000);

  test("a --transformer program gets the nodes as JSON and answers KeyValues", async () => {
    const dir = makeTempDir("transformer");
    const script = join(dir, "upper.ts");
    // Reads Go's concatenated JSON nodes, answers each file as a KeyValue with its value upper-cased.
    writeFileSync(
      script,
      `#!${process.execPath}
import { create, toBinary } from "@bufbuild/protobuf";
import { KeyValueSchema } from "${join(import.meta.dir, "../../proto/gen/mvccpb/kv_pb.ts")}";
const text = await new Response(Bun.stdin.stream()).text();
const nodes = JSON.parse("[" + text.replaceAll("}{", "},{") + "]");
for (const n of nodes) {
  if (n.dir) continue;
  const kv = toBinary(KeyValueSchema, create(KeyValueSchema, { key: new TextEncoder().encode(n.key), value: new TextEncoder().encode(n.value.toUpperCase()), createRevision: BigInt(n.createdIndex), modRevision: BigInt(n.modifiedIndex), version: 1n }));
  const len = Buffer.alloc(8);
  len.writeBigInt64LE(BigInt(kv.length));
  process.stdout.write(Buffer.concat([len, kv]));
}
`,
    );
    chmodSync(script, 0o755);
    const ours = await migrated(etcdBin(), ourEtcdctlBin(), ["--transformer", script]);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe("finished transforming keys\n");
    expect(ours.keys.map((l) => l.split(" ").slice(0, 2).join("="))).toEqual(["/dir/a=A", "/dir/b=B", "/top=2", "/ttl=T"]);
  }, 120_000);

  test("a store without v2 keys: `no v2 keys to migrate`, as etcd's", async () => {
    const none = async () => {};
    const ours = await migrated(etcdBin(), ourEtcdctlBin(), [], none);
    const real = await migrated(REAL_ETCD, "/usr/bin/etcdctl", [], none);
    expect(ours).toEqual(real);
    expect(ours.stdout).toBe("using default transformer\nno v2 keys to migrate\n");
  }, 120_000);
});
