/**
 * Smoke test of the snapshot/defrag scripts (scripts/snapshot-rss.ts, scripts/snapshot-defrag-bench.ts and
 * `scripts/benchmark.ts snapshot-defrag`):
 * each runs at a tiny size against our release binary (`dist/etcd`, `npm run build`) and the
 * real etcd 3.4, and prints JSON with a result per server whose numbers add up.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { RssResult } from "./snapshot-rss.ts";
import type { SnapshotDefragResult } from "./snapshot-defrag-bench.ts";

const root = resolve(import.meta.dir, "..");
const MIB = 1024 * 1024;

/** Runs `bun <script> <args> --json` and parses its stdout; throws with stderr when it fails. */
async function runJson<T>(script: string, args: string[]): Promise<T> {
  const proc = Bun.spawn([process.execPath, join(root, "scripts", script), ...args, "--json"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`${script} exited ${code}:\n${err}`);
  return JSON.parse(out) as T;
}

test("the built server exists (npm run build)", () => {
  expect(existsSync(join(root, "dist", "etcd"))).toBe(true);
});

test("snapshot-rss.ts measures both servers", async () => {
  const results = await runJson<RssResult[]>("snapshot-rss.ts", ["--size-mib", "2", "--value-kib", "64", "--server", "both"]);
  expect(results.map((r) => r.server)).toEqual(["etcd", "ours"]);
  for (const r of results) {
    expect(r.snapshotBytes).toBeGreaterThan(2 * MIB);
    expect(r.peakRssBytes).toBeGreaterThan(0);
    expect(r.idleRssBytes).toBeGreaterThan(0);
    expect(r.snapshotSeconds).toBeGreaterThan(0);
  }
}, 240_000);

/** What both ways of running the snapshot/defrag benchmark must report. */
function expectSnapshotDefragResults(results: SnapshotDefragResult[]): void {
  expect(results.map((r) => r.server)).toEqual(["etcd", "ours"]);
  for (const r of results) {
    expect(r.snapshotBytes).toBeGreaterThan(2 * MIB);
    expect(r.snapshotMibPerSecond).toBeGreaterThan(0);
    expect(r.defragSeconds).toBeGreaterThan(0);
    // Half the values were deleted and compacted: defrag gives space back.
    expect(r.dbAfterDefragBytes).toBeLessThan(r.dbBeforeDefragBytes);
    expect(r.putsDuringDefrag).toBeGreaterThan(0);
    // A tiny defrag stalls nothing long enough to fail a put, on either server.
    expect(r.putsFailedDuringDefrag).toBe(0);
  }
}

test("snapshot-defrag-bench.ts compares etcd and ours in one run", async () => {
  expectSnapshotDefragResults(await runJson<SnapshotDefragResult[]>("snapshot-defrag-bench.ts", ["--size-mib", "2", "--value-kib", "64"]));
}, 240_000);

test("benchmark.ts snapshot-defrag runs the same measurement", async () => {
  expectSnapshotDefragResults(await runJson<SnapshotDefragResult[]>("benchmark.ts", ["snapshot-defrag", "--size-mib", "2", "--value-kib", "64"]));
}, 240_000);
