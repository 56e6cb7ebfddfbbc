/**
 * `--log-outputs` (etcd 3.4 with `--logger zap`): a file output receives the JSON log lines
 * while the process's own stderr/stdout do not get them; a file that cannot be opened and
 * `default` mixed with others stop the server with exit code 1 and etcd's message. Runs
 * unchanged against real etcd 3.4 (`E2E_ETCD_BIN=/usr/bin/etcd`).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, etcdBin, IS_REAL_ETCD, makeTempDir, run, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);
afterAll(cleanup);

test("--log-outputs <file>: log lines go to the file only", async () => {
  const dir = makeTempDir("log-outputs");
  const file = join(dir, "etcd.log");
  const p = await startEtcd({ extraArgs: ["--logger", "zap", "--log-outputs", file] });
  const code = await p.stop(15_000);
  expect(IS_REAL_ETCD ? ["SIGTERM", 0] : [0]).toContain(p.proc.signalCode ?? code);
  const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { level: string; msg: string });
  expect(lines.some((l) => l.msg === "now serving peer/client/metrics")).toBe(true);
  expect(lines.every((l) => typeof l.level === "string")).toBe(true);
  expect(p.log()).not.toContain("now serving peer/client/metrics");
});

test("--log-outputs stdout,<file>: both get the lines", async () => {
  const dir = makeTempDir("log-outputs2");
  const file = join(dir, "etcd.log");
  const p = await startEtcd({ extraArgs: ["--logger", "zap", "--log-outputs", `stdout,${file}`] });
  await p.stop(15_000);
  expect(readFileSync(file, "utf8")).toContain("now serving peer/client/metrics");
  expect(p.log()).toContain("now serving peer/client/metrics");
});

test("bad --log-outputs: exit 1 with etcd's message", async () => {
  const dir = makeTempDir("log-outputs-bad");
  for (const [value, message] of [
    ["/nonexistent-dir/etcd.log", 'open sink \\"/nonexistent-dir/etcd.log\\": open /nonexistent-dir/etcd.log: no such file or directory'],
    ["default,stdout", 'multi logoutput for \\"default\\" is not supported yet'],
  ]) {
    const r = await run([etcdBin(), "--logger", "zap", "--data-dir", join(dir, "d"), "--log-outputs", value!], { cwd: dir, timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    // Real etcd prints the error as text (`error verifying flags, <error>`), we as a JSON field.
    expect(r.stdout + r.stderr).toContain(IS_REAL_ETCD ? message!.replaceAll('\\"', '"') : message!);
  }
});
