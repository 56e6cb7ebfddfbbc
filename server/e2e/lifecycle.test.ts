/**
 * Process lifecycle of the `etcd` binary: default flags, `ETCD_*` environment variables, SIGTERM,
 * restart with stable member/cluster IDs, a second process on a data dir in use, `--version`,
 * the plain HTTP endpoints `/health` and `/version`, and (ours) the allocator option the binary
 * re-executes itself with (server/runtime/allocator-options.ts). Behaviour as etcd 3.4.23 shows it
 * (etcdmain/config.go, pkg/osutil/interrupt_unix.go, etcdserver/api/etcdhttp).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bytes, grpcClients, rpcError, text } from "./clients.ts";
import {
  cleanup,
  type EtcdProcess,
  etcdBin,
  freePort,
  goEtcdctl,
  httpGet,
  IS_REAL_ETCD,
  makeTempDir,
  run,
  startEtcd,
  waitHealthy,
} from "./harness.ts";

// Each test starts/stops real processes: allow more than bun's 5 s default.
setDefaultTimeout(60_000);

afterAll(cleanup);

/** Member and cluster ID (uint64) of the member serving `endpoint`, from a response header. */
async function ids(endpoint: string): Promise<{ memberId: bigint; clusterId: bigint }> {
  const h = (await grpcClients(endpoint).cluster.memberList({})).header!;
  return { memberId: h.memberId, clusterId: h.clusterId };
}

/** Loopback client and peer URLs on fresh free ports. */
async function urls(): Promise<{ clientPort: number; peerPort: number; client: string; peer: string }> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  return { clientPort, peerPort, client: `http://127.0.0.1:${clientPort}`, peer: `http://127.0.0.1:${peerPort}` };
}

test("default-ish flags: member 'default', ./default.etcd, localhost URLs listen on 127.0.0.1", async () => {
  const cwd = makeTempDir("cwd");
  const clientPort = await freePort();
  const peerPort = await freePort();
  // etcd's defaults are http://localhost:2379 and :2380; only the ports differ here.
  const client = `http://localhost:${clientPort}`;
  const peer = `http://localhost:${peerPort}`;
  const p = await startEtcd({
    standardFlags: false,
    cwd,
    dataDir: join(cwd, "default.etcd"),
    clientPort,
    peerPort,
    extraArgs: [
      "--listen-client-urls", client,
      "--advertise-client-urls", client,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", `default=${peer}`,
    ],
  }); // startEtcd waits for http://127.0.0.1:<clientPort>/health
  expect(existsSync(join(cwd, "default.etcd"))).toBe(true);
  const { members } = await grpcClients(p.endpoint).cluster.memberList({});
  expect(members.map((m) => [m.name, m.peerURLs, m.clientURLs])).toEqual([["default", [peer], [client]]]);
  await p.stop();
});

test("ETCD_* environment variables configure the server", async () => {
  const dir = makeTempDir("env");
  const u = await urls();
  const dataDir = join(dir, "from-env");
  const p = await startEtcd({
    standardFlags: false,
    dataDir,
    clientPort: u.clientPort,
    peerPort: u.peerPort,
    env: {
      ETCD_NAME: "envname",
      ETCD_DATA_DIR: dataDir,
      ETCD_LISTEN_CLIENT_URLS: u.client,
      ETCD_ADVERTISE_CLIENT_URLS: u.client,
      ETCD_LISTEN_PEER_URLS: u.peer,
      ETCD_INITIAL_ADVERTISE_PEER_URLS: u.peer,
      ETCD_INITIAL_CLUSTER: `envname=${u.peer}`,
      ETCD_MAX_REQUEST_BYTES: "1024",
    },
  });
  expect(existsSync(dataDir)).toBe(true);
  const grpc = grpcClients(p.endpoint);
  const { members } = await grpc.cluster.memberList({});
  expect(members.map((m) => [m.name, m.peerURLs, m.clientURLs])).toEqual([["envname", [u.peer], [u.client]]]);
  const e = await rpcError(grpc.kv.put({ key: bytes("k"), value: new Uint8Array(2048) }));
  expect(e.rawMessage).toBe("etcdserver: request is too large");
  await p.stop();
});

describe("stop and restart on the same data dir", () => {
  let first: EtcdProcess;
  let before: { memberId: bigint; clusterId: bigint };

  test("SIGTERM stops the server cleanly", async () => {
    first = await startEtcd({ name: "life" });
    before = await ids(first.endpoint);
    await grpcClients(first.endpoint).kv.put({ key: bytes("/kept"), value: bytes("across restarts") });
    const code = await first.stop(15_000);
    // Go etcd re-raises SIGTERM after its shutdown handlers (death by SIGTERM); ours exits 0.
    // Either way it must not need the SIGKILL that stop() sends after the grace period.
    const how = first.proc.signalCode ?? code;
    expect(IS_REAL_ETCD ? ["SIGTERM", 0] : [0]).toContain(how);
  });

  test("restart keeps data and member/cluster IDs", async () => {
    const again = await startEtcd({
      name: "life",
      dataDir: first.dataDir,
      clientPort: first.clientPort,
      peerPort: first.peerPort,
    });
    expect(await ids(again.endpoint)).toEqual(before);
    const r = await grpcClients(again.endpoint).kv.range({ key: bytes("/kept") });
    expect(r.kvs.map((kv) => text(kv.value))).toEqual(["across restarts"]);
    first = again;
  });

  test("a second process on a data dir in use does not start, also after a snapshot save and a defrag copied the backend", async () => {
    // Both copy the backend file; ours once did it through a descriptor of its own, whose close
    // dropped the process's POSIX locks on the file, SQLite's exclusive lock among them.
    const save = await goEtcdctl(first.endpoint, ["snapshot", "save", join(makeTempDir("snap"), "s.db")]);
    expect(save.code).toBe(0);
    const defrag = await goEtcdctl(first.endpoint, ["defrag"]);
    expect(defrag.code).toBe(0);
    const second = await startEtcd({ name: "life", dataDir: first.dataDir, waitReady: false });
    const outcome = await Promise.race([second.exited, Bun.sleep(5_000).then(() => "still running" as const)]);
    if (IS_REAL_ETCD) {
      // etcd 3.4 blocks on the bbolt file lock: it never serves, and never exits on its own.
      expect(outcome).toBe("still running");
      await expect(waitHealthy(second, 1_000)).rejects.toThrow();
      await second.stop(2_000);
    } else {
      expect(outcome).not.toBe("still running");
      expect(outcome).not.toBe(0);
      expect(second.log()).toContain(first.dataDir);
      expect(second.log()).toMatch(/lock|in use/i);
    }
    // the first one is unharmed
    const r = await grpcClients(first.endpoint).kv.range({ key: bytes("/kept") });
    expect(r.kvs).toHaveLength(1);
  });

  test("GET /health and GET /version", async () => {
    const health = await httpGet(first.endpoint, "/health");
    expect(health).toEqual({ status: 200, body: '{"health":"true"}' });
    const version = await httpGet(first.endpoint, "/version");
    expect(version.status).toBe(200);
    const v = JSON.parse(version.body);
    expect(Object.keys(v).sort()).toEqual(["etcdcluster", "etcdserver"]);
    expect(v.etcdserver).toMatch(/^\d+\.\d+\.\d+$/);
    expect(v.etcdcluster).toMatch(/^\d+\.\d+\.0$/);
    const cli = await run([etcdBin(), "--version"]);
    expect(cli.stdout).toContain(`etcd Version: ${v.etcdserver}\n`);
  });
});

/** The environment of a running process, `NAME=value` entries. */
function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

test.skipIf(IS_REAL_ETCD)("the binary runs with mimalloc's purge delay, set by re-executing itself in place; a value the user set is kept", async () => {
  const plain = await startEtcd({ name: "alloc", env: { MIMALLOC_PURGE_DELAY: undefined } as unknown as Record<string, string> });
  // The PID the harness spawned serves with the variable: the re-exec replaced the process image.
  expect(environOf(plain.pid)).toContain("MIMALLOC_PURGE_DELAY=10000");
  await plain.stop();
  const user = await startEtcd({ name: "alloc-user", env: { MIMALLOC_PURGE_DELAY: "50" } });
  expect(environOf(user.pid)).toContain("MIMALLOC_PURGE_DELAY=50");
  await user.stop();
});

test("--version prints the version and exits 0", async () => {
  const r = await run([etcdBin(), "--version"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^etcd Version: \d+\.\d+\.\d+\n/);
});
