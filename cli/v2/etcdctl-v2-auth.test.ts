/**
 * etcdctl v2 mode's `--username user:password` (`-u`, `ETCDCTL_USERNAME`): HTTP basic auth on
 * every request, against a v2 server whose v2 auth is enabled (root user created and auth turned
 * on through `/v2/auth`). Go's etcdctl 3.4 and ours, one fresh server each (same ports);
 * stdout, stderr and exit codes must match. Server under test: `CLI_TEST_ETCD_BIN` (default the
 * real etcd 3.4); needs its v2 API including `/v2/auth`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanEnv, runProcess, type EtcdProcess, type RunResult } from "../testing/etcd-process.ts";
import { runOnFreshMembers } from "./testing.ts";

const MAIN = join(import.meta.dir, "..", "main.ts");
const REAL = ["/usr/bin/etcdctl"];
const OURS = [process.execPath, MAIN];

interface Case {
  args: string[];
  env?: Record<string, string>;
}

const CASES: Case[] = [
  { args: ["-u", "root:secret", "set", "/a", "1"] },
  { args: ["--username", "root:secret", "-o", "json", "get", "/a"] },
  { args: ["get", "/a"], env: { ETCDCTL_USERNAME: "root:secret" } },
  { args: ["-u", "root:wrong", "get", "/a"] },
  { args: ["get", "/a"] },
  { args: ["-u", "nobody:x", "set", "/b", "2"] },
  { args: ["-u", "root:secret", "member", "list"] },
  { args: ["-u", "root:secret", "rm", "/a"] },
];

let real: RunResult[] = [];
let ours: RunResult[] = [];
let etcd: EtcdProcess | undefined;

/** Creates the v2 root user and enables v2 auth (etcd's v2 authentication guide). */
async function enableAuth(ep: string): Promise<void> {
  const put = await fetch(`${ep}/v2/auth/users/root`, { method: "PUT", body: JSON.stringify({ user: "root", password: "secret" }) });
  expect(put.status).toBe(201);
  const enable = await fetch(`${ep}/v2/auth/enable`, { method: "PUT" });
  expect(enable.status).toBe(200);
  // Without the guest role's access, unauthenticated requests are refused too.
  const revoke = await fetch(`${ep}/v2/auth/roles/guest`, {
    method: "PUT",
    headers: { Authorization: `Basic ${btoa("root:secret")}` },
    body: JSON.stringify({ role: "guest", revoke: { kv: { read: ["/*"], write: ["/*"] } } }),
  });
  expect(revoke.status).toBe(200);
}

async function runAll(cmd: string[], ep: string): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (const c of CASES) out.push(await runProcess(cmd, ["--endpoints", ep, ...c.args], "", { ...cleanEnv(), ETCDCTL_API: "2", ...c.env }));
  return out;
}

beforeAll(async () => {
  ({ real, ours, etcd } = await runOnFreshMembers("v2-auth", undefined, (ep) => runAll(REAL, ep), (ep) => runAll(OURS, ep), enableAuth));
}, 120_000);

afterAll(async () => {
  await etcd?.stop();
});

describe("etcdctl v2 --username: same output as etcdctl 3.4 (needs the server's v2 API and v2 auth)", () => {
  CASES.forEach((c, i) => {
    test([...c.args, ...Object.keys(c.env ?? {})].join(" "), () => {
      const comparable = (r: RunResult) => ({ stdout: Buffer.from(r.stdout).toString(), stderr: r.stderr, code: r.code });
      expect(comparable(ours[i]!)).toEqual(comparable(real[i]!));
    });
  });
});
