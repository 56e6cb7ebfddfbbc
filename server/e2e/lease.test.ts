/**
 * Leases end to end through the release binaries: the Go etcdctl (and ours, compared line by
 * line) granting, attaching keys with `put --lease`, expiry deleting them, `lease keep-alive`
 * holding a key past its TTL, `lease revoke`, `lease timetolive --keys`, `lease list`; the
 * `etcd3` npm client's `lease(ttl)` with automatic keep-alive; leases and their keys surviving a
 * restart. Expected texts were read off etcd 3.4.23 (passes with E2E_ETCD_BIN=/usr/bin/etcd).
 * Expiry tests use the minimum TTL (2 s) and poll with generous deadlines; nothing is timed.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Etcd3 } from "etcd3";
import { cleanup, ETCDCTLS, type EtcdProcess, GO_ETCDCTL, goEtcdctl, ourEtcdctl, startEtcd } from "./harness.ts";
import { waitFor } from "../http/test-util.ts";

setDefaultTimeout(90_000);

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "lease" });
});
afterAll(cleanup);

/** `lease grant <ttl>` with the Go etcdctl; returns the hex ID it printed. */
async function grant(ttl: number): Promise<string> {
  const r = await goEtcdctl(etcd.endpoint, ["lease", "grant", String(ttl)]);
  const m = /^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)\n$/.exec(r.stdout);
  if (!m) throw new Error(`unexpected grant output: ${JSON.stringify(r)}`);
  return m[1]!;
}

/** The value of `key` as the Go etcdctl prints it (`""` when absent). */
async function get(key: string): Promise<string> {
  return (await goEtcdctl(etcd.endpoint, ["get", key, "--print-value-only"])).stdout;
}

test("grant, put --lease, and expiry deletes the key", async () => {
  const id = await grant(1);
  expect((await goEtcdctl(etcd.endpoint, ["put", "exp/k", "v", `--lease=${id}`])).stdout).toBe("OK\n");
  expect(await get("exp/k")).toBe("v\n");
  await waitFor(async () => (await get("exp/k")) === "", "the key to expire", 20_000, 200);
  const ttl = await goEtcdctl(etcd.endpoint, ["lease", "timetolive", id]);
  expect(ttl.stdout).toBe(`lease ${id} already expired\n`);
});

test("put with an unknown lease fails as in etcd", async () => {
  for (const ctl of ETCDCTLS) {
    const r = await ctl.run(etcd.endpoint, ["put", "nolease", "v", "--lease=1234abcd"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEndWith("Error: etcdserver: requested lease not found\n");
  }
});

test("lease keep-alive holds a key past its TTL; once stopped the key expires", async () => {
  const id = await grant(2);
  await goEtcdctl(etcd.endpoint, ["put", "ka/k", "v", `--lease=${id}`]);
  const keeper = Bun.spawn({
    cmd: [GO_ETCDCTL, `--endpoints=${etcd.endpoint}`, "lease", "keep-alive", id],
    env: { ...process.env, ETCDCTL_API: "3" } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = new Response(keeper.stdout).text();
  try {
    // Well past two TTLs, checked along the way: the key must never disappear.
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      expect(await get("ka/k")).toBe("v\n");
      await Bun.sleep(500);
    }
  } finally {
    process.kill(keeper.pid, "SIGTERM");
  }
  expect(await output).toContain(`lease ${id} keepalived with TTL(2)\n`);
  await waitFor(async () => (await get("ka/k")) === "", "the key to expire after keep-alive stopped", 20_000, 200);
});

test("our etcdctl keep-alive also keeps the lease, and ends when the lease is revoked", async () => {
  const id = await grant(2);
  const r = await ourEtcdctl(etcd.endpoint, ["lease", "keep-alive", "--once", id]);
  expect(r.stdout).toBe(`lease ${id} keepalived with TTL(2)\n`);
  const gone = await ourEtcdctl(etcd.endpoint, ["lease", "keep-alive", "--once", "7fff"]);
  expect([gone.code, gone.stderr]).toEqual([2, "Error: etcdserver: requested lease not found\n"]);
  await goEtcdctl(etcd.endpoint, ["lease", "revoke", id]);
  const ended = await ourEtcdctl(etcd.endpoint, ["lease", "keep-alive", id]);
  expect([ended.code, ended.stdout]).toEqual([0, `lease ${id} expired or revoked.\n`]);
});

describe.each(ETCDCTLS)("$name", ({ run }) => {
  test("revoke deletes every attached key; timetolive --keys and list", async () => {
    const id = await grant(600);
    await goEtcdctl(etcd.endpoint, ["put", "rv/b", "2", `--lease=${id}`]);
    await goEtcdctl(etcd.endpoint, ["put", "rv/a", "1", `--lease=${id}`]);
    await goEtcdctl(etcd.endpoint, ["put", "rv/c", "3"]);
    // etcd lists attached keys in map order; ours sorts them.
    const ttl = await run(etcd.endpoint, ["lease", "timetolive", id, "--keys"]);
    expect(ttl.stdout).toMatch(new RegExp(`^lease ${id} granted with TTL\\(600s\\), remaining\\(\\d+s\\), attached keys\\(\\[(rv/a rv/b|rv/b rv/a)\\]\\)\\n$`));
    const list = await run(etcd.endpoint, ["lease", "list"]);
    expect(list.stdout).toMatch(/^found \d+ leases\n/);
    expect(list.stdout).toContain(`\n${id}\n`);
    const json = await run(etcd.endpoint, ["get", "rv/a", "-w", "json"]);
    expect(json.stdout).toContain(`"lease":${BigInt("0x" + id)}`);
    const before = JSON.parse((await goEtcdctl(etcd.endpoint, ["get", "x", "-w", "json"])).stdout).header.revision;
    expect((await run(etcd.endpoint, ["lease", "revoke", id])).stdout).toBe(`lease ${id} revoked\n`);
    const after = JSON.parse((await goEtcdctl(etcd.endpoint, ["get", "x", "-w", "json"])).stdout).header.revision;
    expect(after).toBe(before + 1);
    expect((await goEtcdctl(etcd.endpoint, ["get", "rv/", "--prefix", "--keys-only"])).stdout).toBe("rv/c\n\n");
    const again = await run(etcd.endpoint, ["lease", "revoke", id]);
    expect([again.code, again.stderr.split("\n").at(-2)]).toEqual([1, "Error: failed to revoke lease (etcdserver: requested lease not found)"]);
  });
});

test("our etcdctl prints lease responses exactly as the Go etcdctl", async () => {
  const id = await grant(600);
  await goEtcdctl(etcd.endpoint, ["put", "same/k", "v", `--lease=${id}`]);
  const cases = [
    ["lease", "timetolive", id, "--keys", "-w", "json"],
    ["lease", "timetolive", id, "-w", "fields"],
    ["lease", "timetolive", "abc"],
    ["lease", "timetolive", "abc", "-w", "json"],
    ["lease", "keep-alive", "--once", id, "-w", "json"],
    ["lease", "grant", "9000000001"],
    ["lease", "revoke", "zz"],
    ["lease", "grant"],
    ["lease", "list", "-w", "table"],
  ];
  for (const args of cases) {
    const go = await goEtcdctl(etcd.endpoint, args);
    const ours = await ourEtcdctl(etcd.endpoint, args);
    // clientv3 logs retry warnings (JSON lines) on stderr that our client does not print.
    const stderr = (s: string) => s.split("\n").filter((l) => !l.startsWith('{"level"')).join("\n");
    // Remaining TTLs may tick between the two calls.
    const stdout = (s: string) => s.replace(/"ttl":\d+/, '"ttl":N').replace(/"TTL" : \d+/, '"TTL" : N');
    expect({ args, code: ours.code, stdout: stdout(ours.stdout), stderr: stderr(ours.stderr) }).toEqual({
      args,
      code: go.code,
      stdout: stdout(go.stdout),
      stderr: stderr(go.stderr),
    });
  }
});

test("etcd3 npm client: lease(ttl) keeps its key alive automatically, then revoke deletes it", async () => {
  const client = new Etcd3({ hosts: etcd.endpoint });
  try {
    const lease = client.lease(2, { autoKeepAlive: true });
    await lease.put("npm/k").value("v");
    const id = await lease.grant();
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      expect(await client.get("npm/k").string()).toBe("v");
      await Bun.sleep(500);
    }
    const ttl = await goEtcdctl(etcd.endpoint, ["lease", "timetolive", BigInt(id).toString(16).padStart(16, "0"), "--keys"]);
    expect(ttl.stdout).toContain("attached keys([npm/k])");
    await lease.revoke();
    expect(await client.get("npm/k").string()).toBeNull();
  } finally {
    client.close();
  }
});

test("restart: leases and their keys survive with their full TTL", async () => {
  const own = await startEtcd({ name: "lease-restart" });
  const id = (await goEtcdctl(own.endpoint, ["lease", "grant", "300"])).stdout.split(" ")[1]!;
  await goEtcdctl(own.endpoint, ["put", "rs/k", "v", `--lease=${id}`]);
  await own.stop();
  const again = await startEtcd({ name: "lease-restart", dataDir: own.dataDir, clientPort: own.clientPort, peerPort: own.peerPort });
  const ttl = await goEtcdctl(again.endpoint, ["lease", "timetolive", id, "--keys"]);
  const m = /remaining\((\d+)s\), attached keys\(\[rs\/k\]\)/.exec(ttl.stdout);
  expect(m, ttl.stdout).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThanOrEqual(299);
  expect((await goEtcdctl(again.endpoint, ["get", "rs/k", "--print-value-only"])).stdout).toBe("v\n");
  await goEtcdctl(again.endpoint, ["lease", "revoke", id]);
  expect((await goEtcdctl(again.endpoint, ["get", "rs/k"])).stdout).toBe("");
});
