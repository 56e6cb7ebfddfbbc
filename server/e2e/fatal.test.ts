/**
 * Member-fatal storage errors through the release binary (etcd's `lg.Fatal`): when the disk
 * refuses a write the member logs a `"level":"fatal"` line and exits with a non-zero code instead
 * of serving state its disk does not have; restarted on a healthy disk it has every write it
 * acknowledged. Two disks that fail: a file size limit reached while running (`ulimit -f`, with
 * SIGXFSZ ignored so the write fails with EFBIG), and a data dir mounted read-only (a private
 * mount namespace, `unshare -m`), which etcd refuses at start-up (`cannot access data
 * directory`). Both pass against real etcd 3.4 (`E2E_ETCD_BIN=/usr/bin/etcd`).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { bytes, grpcClients } from "./clients.ts";
import { cleanup, startEtcd, type EtcdProcess } from "./harness.ts";

setDefaultTimeout(180_000);
afterAll(cleanup);

/** Largest file the limited server may write, KiB (bash's `ulimit -f` unit): above etcd's 64 MB WAL files. */
const FILE_LIMIT_KIB = 100 * 1024;
const VALUE_BYTES = 512 * 1024;

/** The `"level":"fatal"` lines of a server log. */
function fatalLines(p: EtcdProcess): Record<string, unknown>[] {
  return p
    .log()
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes('"level":"fatal"'))
    .map((l) => JSON.parse(l));
}

/** Restarts on `p`'s data dir and ports; every acked key must be there with its value and revision. */
async function expectAllAcked(p: EtcdProcess, acked: Map<string, { value: Uint8Array; revision: bigint }>): Promise<void> {
  const again = await startEtcd({ name: p.name, dataDir: p.dataDir, clientPort: p.clientPort, peerPort: p.peerPort, extraArgs: ["--logger", "zap"] });
  const { kv } = grpcClients(again.endpoint);
  const missing: string[] = [];
  for (const [key, a] of acked) {
    const r = await kv.range({ key: bytes(key) });
    const got = r.kvs[0];
    if (!got || got.modRevision !== a.revision || Buffer.compare(Buffer.from(got.value), Buffer.from(a.value)) !== 0) missing.push(key);
  }
  expect(missing).toEqual([]);
  // The member takes writes again.
  await kv.put({ key: bytes("after-restart"), value: bytes("ok") });
  await again.stop();
}

test("a write the disk refuses (file size limit reached) ends the member with a fatal line and a non-zero exit; a restart has every acknowledged put", async () => {
  const p = await startEtcd({
    name: "fatal-fsize",
    execPrefix: ["bash", "-c", `trap '' XFSZ; ulimit -f ${FILE_LIMIT_KIB}; exec "$@"`, "etcd-file-limit"],
    extraArgs: ["--logger", "zap"],
  });
  const { kv } = grpcClients(p.endpoint);
  const acked = new Map<string, { value: Uint8Array; revision: bigint }>();
  let failure: unknown;
  // Four times the limit: the disk must refuse long before.
  for (let i = 0; i < (4 * FILE_LIMIT_KIB * 1024) / VALUE_BYTES && failure === undefined; i++) {
    const key = `/fatal/${String(i).padStart(4, "0")}`;
    const value = randomBytes(VALUE_BYTES);
    try {
      const r = await kv.put({ key: bytes(key), value }, { timeoutMs: 20_000 });
      acked.set(key, { value, revision: r.header!.revision });
    } catch (e) {
      failure = e;
    }
  }
  expect(failure).toBeDefined();
  const code = await p.exited;
  expect(p.proc.signalCode).toBeNull(); // ended by itself, not by SIGXFSZ
  expect(code).not.toBe(0);
  const fatal = fatalLines(p);
  expect(fatal.length).toBeGreaterThanOrEqual(1);
  expect(String(fatal[0]!.error)).toMatch(/file too large|disk I\/O error|database or disk is full/);
  expect(acked.size).toBeGreaterThan(10);
  await expectAllAcked(p, acked);
});

/** True when this process may create a mount namespace and bind-mount in it (root in most CI). */
const CAN_UNSHARE = spawnSync("unshare", ["-m", "true"]).status === 0;

test.skipIf(!CAN_UNSHARE)("a read-only data dir: the member refuses to start with a fatal line and exit 1; writable again, it has every acknowledged put", async () => {
  const first = await startEtcd({ name: "fatal-ro", extraArgs: ["--logger", "zap"] });
  const { kv } = grpcClients(first.endpoint);
  const acked = new Map<string, { value: Uint8Array; revision: bigint }>();
  for (let i = 0; i < 10; i++) {
    const key = `/ro/${i}`;
    const value = bytes(`value-${i}`);
    acked.set(key, { value, revision: (await kv.put({ key: bytes(key), value })).header!.revision });
  }
  await first.stop();

  const ro = await startEtcd({
    name: "fatal-ro",
    dataDir: first.dataDir,
    clientPort: first.clientPort,
    peerPort: first.peerPort,
    // In a private mount namespace only this process sees its data dir read-only.
    execPrefix: ["unshare", "-m", "bash", "-c", `mount --bind -o ro "$0" "$0" && exec "$@"`, first.dataDir],
    extraArgs: ["--logger", "zap"],
    waitReady: false,
  });
  expect(await ro.exited).toBe(1);
  const fatal = fatalLines(ro);
  expect(fatal).toHaveLength(1);
  expect(fatal[0]!.error).toBe(`cannot access data directory: open ${first.dataDir}/.touch: read-only file system`);

  await expectAllAcked(first, acked);
});
