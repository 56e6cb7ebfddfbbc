/**
 * Auto-compaction through the release binary, as etcd 3.4 does it (v3compactor/periodic.go):
 * with `--auto-compaction-retention 2s` the leader compacts after two seconds and logs
 * `starting/completed auto periodic compaction` with `compact-period` "2s"; old revisions then
 * answer `mvcc: required revision has been compacted`. A bad retention fails the start. Runs
 * unchanged against real etcd 3.4 (`E2E_ETCD_BIN=/usr/bin/etcd`).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { bytes, grpcClients, rpcError } from "./clients.ts";
import { cleanup, etcdBin, makeTempDir, run, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);
afterAll(cleanup);

test("periodic retention 2s: the history is compacted within a few seconds and the run is logged as etcd logs it", async () => {
  const p = await startEtcd({ extraArgs: ["--logger", "zap", "--auto-compaction-mode", "periodic", "--auto-compaction-retention", "2s"] });
  const kv = grpcClients(p.endpoint).kv;
  for (let i = 0; i < 5; i++) await kv.put({ key: bytes("k"), value: bytes(`v${i}`) });
  const deadline = Date.now() + 15_000;
  let compacted = false;
  while (!compacted && Date.now() < deadline) {
    await Bun.sleep(250);
    compacted = await kv.range({ key: bytes("k"), revision: 2n }).then(() => false, () => true);
  }
  expect(compacted).toBe(true);
  const err = await rpcError(kv.range({ key: bytes("k"), revision: 2n }));
  expect(err.rawMessage).toBe("etcdserver: mvcc: required revision has been compacted");
  const lines = p.log().split("\n").filter((l) => l.includes("auto periodic compaction")).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]).toMatchObject({ level: "info", msg: "starting auto periodic compaction", "compact-period": "2s" });
  expect(lines[1]).toMatchObject({ level: "info", msg: "completed auto periodic compaction", "compact-period": "2s" });
  expect(typeof lines[1]!.took).toBe("string");
});

test("a retention that is neither a number nor a duration stops the server: exit 1, etcd's message", async () => {
  const dir = makeTempDir("bad-retention");
  const r = await run([etcdBin(), "--data-dir", join(dir, "d"), "--auto-compaction-retention", "abc"], { cwd: dir, timeoutMs: 10_000 });
  expect(r.code).toBe(1);
  expect(r.stdout + r.stderr).toContain("error parsing CompactionRetention: time: invalid duration");
});
