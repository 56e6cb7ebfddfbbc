/**
 * Smoke test of the benchmark tools, so they cannot rot: `scripts/benchmark.ts` (one mode, two client counts, tiny
 * slices) runs against the real etcd 3.4 and the release binary (dist/etcd, when built; otherwise etcd alone), and
 * `scripts/scale.ts` (tiny sizes) against the release binary alone (`--etcd none`; etcd's restarts each wait an
 * election timeout), and both print their tables; `scripts/scale-history.ts` writes a little history into a kept dir
 * in two runs. Not a timed test: no figure is checked beyond being there.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { HistoryRun } from "./scale-history.ts";

const root = resolve(import.meta.dir, "..");
const ETCD = "/usr/bin/etcd";
const oursBuilt = existsSync(join(root, "dist", "etcd"));

setDefaultTimeout(120_000);

/** Runs `bun <script> ...args` in the repo root; resolves with exit status, stdout and stderr. */
async function run(script: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, join(root, "scripts", script), ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { status, stdout, stderr };
}

/** The table rows (lines starting with "|") of `text` whose first cells match `first`. */
function rows(text: string, first: RegExp): string[] {
  return text.split("\n").filter((line) => line.startsWith("|") && first.test(line));
}

test.skipIf(!existsSync(ETCD))("benchmark.ts runs a mode per client count and prints its table with peak RSS", async () => {
  const r = await run("benchmark.ts", [
    "delete",
    ...["--clients", "2,8", "--conns", "2", "--delete-keys", "300", "--slices", "1", "--slice-seconds", "0.2"],
    ...["--warmup-seconds", "0.2", "--startup-runs", "1", "--total", "100"],
  ]);
  expect(r.stderr).not.toContain("benchmark: ");
  expect(r.status).toBe(0);
  expect(r.stdout).toContain("| workload | server | req/s | slices req/s | p50 (ms) | p99 (ms) | server CPU (µs/op) | generator CPU (µs/op) | peak RSS (MB) | errors |");
  for (const clients of [2, 8]) {
    const row = rows(r.stdout, new RegExp(`^\\| delete \\(.*\\), ${clients} clients, 1 × `));
    expect(row.length).toBe(1);
    // etcd's row, then ours (each: req/s, peak RSS > 0 MB, 0 errors)
    expect(row[0]).toMatch(/\| etcd \| [\d,]+ \|.*\| [1-9]\d* \| 0 \|$/);
  }
  expect(rows(r.stdout, /^\| +\| ours \| [\d,]+ \|.*\| [1-9]\d* \| 0 \|$/).length).toBe(oursBuilt ? 2 : 0);
});

test.skipIf(!oursBuilt)("scale.ts runs every step at tiny sizes and prints its table", async () => {
  const r = await run("scale.ts", [
    ...["--etcd", "none"],
    ...["--keys", "300", "--range-keys", "50", "--range-requests", "2", "--watchers", "20", "--watch-streams", "2"],
    ...["--history-bytes", "100000", "--history-val-size", "10000", "--put-val-sizes", "1024", "--put-seconds", "0.3"],
  ]);
  expect(r.stderr).not.toContain("scale: ");
  expect(r.status).toBe(0);
  expect(r.stdout).toContain("| measurement | ours |");
  for (const what of [
    /^\| load 300 keys .*: time \(s\) \|/,
    /^\| range of 50 keys at 300 keys: median \(ms\) \|/,
    /^\| 20 watchers on distinct keys .* \|/,
    /^\| restart with 300 keys: exec → first answer \(ms\) \|/,
    // 300 loaded keys, 20 watched keys put, the 300 keys overwritten: 620 revisions, 320 of them freed.
    /^\| compaction of every revision so far \(physical\): revisions \| 620 \|/,
    /^\| … of them overwritten, freed by it \| 320 \|/,
    /^\| … restart with the history: exec → first answer \(ms\) \|/,
    /^\| put, 1,024 B values, 64 clients over 8 connections: req\/s \|/,
  ]) {
    expect(rows(r.stdout, what).length).toBe(1);
  }
});

test.skipIf(!oursBuilt)("scale-history.ts writes history into a kept dir over two runs, restarts, and removes the dir", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "scale-history-test-")), "kept");
  try {
    const args = ["--server", "ours", "--dir", dir, "--write-bytes", "200000", "--val-size", "10000", "--keys", "5", "--json"];
    const first = await run("scale-history.ts", [...args, "--restarts", "1"]);
    expect(first.stderr).not.toContain("scale-history: ");
    expect(first.status).toBe(0);
    const a = JSON.parse(first.stdout) as HistoryRun;
    expect(a.state).toEqual({ label: "ours", bytes: 200_000, puts: 20 });
    expect(a.starts.map((s) => [s.what, s.historyBytes])).toEqual([["first start (empty)", 0], ["restart after SIGTERM", 200_000]]);
    expect(a.write.dataDirBytes).toBeGreaterThan(200_000);
    // The second run starts on the dir with the history so far, adds to it, restarts after a SIGKILL, then removes it.
    const second = await run("scale-history.ts", [...args, "--restarts", "1", "--kill", "--remove"]);
    expect(second.status).toBe(0);
    const b = JSON.parse(second.stdout) as HistoryRun;
    expect(b.state.bytes).toBe(400_000);
    expect(b.starts.map((s) => [s.what, s.historyBytes])).toEqual([["start on the kept dir", 200_000], ["restart after SIGKILL", 400_000]]);
    expect(existsSync(dir)).toBe(false);
    // A dir holding one server's history is refused to the other.
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "history.json"), JSON.stringify({ label: "ours", bytes: 1, puts: 1 }));
    const refused = await run("scale-history.ts", ["--server", "etcd", "--dir", dir]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`holds ours's data, not etcd's`);
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
});
