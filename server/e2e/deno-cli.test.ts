/**
 * Our etcdctl source (`cli/main.ts`) run under Deno (`deno run -A cli/main.ts`), not compiled and
 * not under Bun: the CLI must stay runtime-neutral. Put and get against the server under test.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { bytes, grpcClients, text } from "./clients.ts";
import { cleanup, type EtcdProcess, expectOk, REPO_ROOT, run, type RunResult, startEtcd } from "./harness.ts";

// Each test starts/stops real processes: allow more than bun's 5 s default.
setDefaultTimeout(60_000);

const DENO = join(REPO_ROOT, "node_modules", ".bin", "deno");

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "deno" });
});
afterAll(cleanup);

/** `deno run -A --no-lock cli/main.ts --endpoints <endpoint> ...args` (no lock file written into the repo). */
function denoCtl(...args: string[]): Promise<RunResult> {
  return run([DENO, "run", "-A", "--no-lock", "cli/main.ts", "--endpoints", etcd.endpoint, ...args], {
    timeoutMs: 60_000,
  });
}

test("deno run cli/main.ts put", async () => {
  expectOk(await denoCtl("put", "/deno/greeting", "hello from deno"), "OK\n");
  const r = await grpcClients(etcd.endpoint).kv.range({ key: bytes("/deno/greeting") });
  expect(r.kvs.map((kv) => text(kv.value))).toEqual(["hello from deno"]);
});

test("deno run cli/main.ts get", async () => {
  expectOk(await denoCtl("get", "/deno/greeting"), "/deno/greeting\nhello from deno\n");
  expectOk(await denoCtl("get", "/deno/", "--prefix", "--print-value-only"), "hello from deno\n");
});
