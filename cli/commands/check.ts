/**
 * `etcdctl check perf [--load s|m|l|xl] [--prefix p] [--auto-compact] [--auto-defrag]`, as
 * etcdctl 3.4's check.go: `clients` separate connections put 1 KiB values under random 256-byte
 * keys (a varint of a random int63, zero-padded) below the prefix, at most `limit` puts per second
 * (a token bucket of burst 1), for 60 s, with pb.v1's progress bar counting the seconds
 * (cli/go/pb.ts). Then it deletes the prefix (optionally compacting physically at the delete's
 * revision and defragmenting every endpoint, printing etcdctl's lines) and judges the run with
 * etcd's thresholds: throughput above 90 % of the limit, slowest put at most 0.5 s, standard
 * deviation at most 0.1 s, no errors. It prints `PASS`/`FAIL` lines and exits 1 on `FAIL`.
 *
 * Errors: `unknown load option x` (exit 4); keys under the prefix before the run:
 * `prefix "p" has keys. Delete with etcdctl del --prefix p first` (exit 3).
 * One difference: the progress bar's last line is always printed before what follows (in etcdctl
 * the bar's goroutine races with the compaction lines).
 */
import process from "node:process";
import type { EtcdClient } from "../client.ts";
import { ExitCode } from "../errors.ts";
import { GoProgressBar, type ProgressBarIo } from "../go/pb.ts";
import { checkFlags, cleanUp, loadModel, openClients, type PerfStats, putRandomVarint, requireEmptyPrefix, runPuts, sleep } from "./check-load.ts";
import type { CommandContext, CommandSpec } from "./types.ts";

/** One workload of etcdctl's checkPerfCfgMap: puts per second, connections, seconds. */
interface PerfLoad {
  limit: number;
  clients: number;
  durationS: number;
}

/** etcdctl 3.4's checkPerfCfgMap. */
export const PERF_LOADS: Record<string, PerfLoad> = {
  s: { limit: 150, clients: 50, durationS: 60 },
  m: { limit: 1000, clients: 200, durationS: 60 },
  l: { limit: 8000, clients: 500, durationS: 60 },
  xl: { limit: 15000, clients: 1000, durationS: 60 },
};

/** etcdctl's checkPerfAlias. */

const KEY_BYTES = 256;
const VALUE_BYTES = 1024;

/**
 * The bar's output: stdout, flushed at once; the terminal width when stdout is a terminal (pb.v1
 * asks /dev/tty, so etcdctl also draws the bar when stdout is redirected from a terminal).
 */
export function barIo(ctx: CommandContext): ProgressBarIo {
  return {
    write: (text) => {
      ctx.out.print(text);
      void ctx.out.flush();
    },
    width: () => (process.stdout.isTTY ? (process.stdout.columns ?? 0) : 0),
  };
}

/** Go's `%f`: six decimals (NaN as Go prints it). */
const goF = (x: number) => (Number.isNaN(x) ? "NaN" : x.toFixed(6));

/**
 * etcdctl's verdict lines for `stats` against `limit` puts/s; `ok` false means `FAIL` (exit 1).
 */
export function perfVerdict(stats: PerfStats, limit: number): { lines: string[]; ok: boolean } {
  const lines: string[] = [];
  let ok = true;
  if (stats.errors.size !== 0) {
    lines.push("FAIL: too many errors");
    for (const [text, count] of stats.errors) lines.push(`FAIL: ERROR(${text}) -> ${count}`);
    ok = false;
  }
  // Go: int(s.RPS)+1; NaN (no successful put) converts to the minimum int64.
  const rps = Number.isNaN(stats.rps) ? "-9223372036854775807" : String(Math.trunc(stats.rps) + 1);
  if (!(stats.rps / limit > 0.9)) {
    lines.push(`FAIL: Throughput too low: ${rps} writes/s`);
    ok = false;
  } else {
    lines.push(`PASS: Throughput is ${rps} writes/s`);
  }
  if (stats.slowestS > 0.5) {
    lines.push(`Slowest request took too long: ${goF(stats.slowestS)}s`);
    ok = false;
  } else {
    lines.push(`PASS: Slowest request took ${goF(stats.slowestS)}s`);
  }
  if (stats.stddevS > 0.1) {
    lines.push(`Stddev too high: ${goF(stats.stddevS)}s`);
    ok = false;
  } else {
    lines.push(`PASS: Stddev is ${goF(stats.stddevS)}s`);
  }
  lines.push(ok ? "PASS" : "FAIL");
  return { lines, ok };
}

/** Runs the load: puts at most `limit` per second for `durationS` seconds (rate.NewLimiter(limit, 1)). */
function runLoad(clients: EtcdClient[], load: PerfLoad, prefix: Uint8Array): Promise<PerfStats> {
  return runPuts(clients, new Uint8Array(VALUE_BYTES), async (push) => {
    // One token every 1/limit s, no saving up; none after the deadline.
    const intervalMs = 1000 / load.limit;
    const begin = performance.now();
    const deadline = begin + load.durationS * 1000;
    const k = new Uint8Array(KEY_BYTES);
    for (let next = begin; ; next += intervalMs) {
      const now = performance.now();
      if (next < now) next = now;
      if (next > deadline) break;
      if (next - now >= 1) await sleep(next - now);
      putRandomVarint(k);
      const key = new Uint8Array(prefix.length + KEY_BYTES);
      key.set(prefix);
      key.set(k, prefix.length);
      await push(key);
    }
  });
}

/** `check perf`. */
export const checkPerfCommand: CommandSpec = {
  path: ["check", "perf"],
  usage: "[options]",
  description: "Check the performance of the etcd cluster",
  groupDescription: "commands for checking properties of the etcd cluster",
  flags: checkFlags("performance", "/etcdctl-check-perf/"),
  async run(ctx) {
    const load = PERF_LOADS[loadModel(ctx)]!;
    const prefixText = ctx.flags.string("prefix");
    const prefix = new TextEncoder().encode(prefixText);

    const config = await ctx.clientConfig();
    const clients = await openClients(config, load.clients);
    const first = clients[0]!;
    await requireEmptyPrefix(first, prefixText, load.durationS * 1000);

    const bar = new GoProgressBar(load.durationS, barIo(ctx));
    bar.start();
    const ticker = (async () => {
      for (let i = 0; i < load.durationS; i++) {
        await sleep(1000);
        bar.add(1);
      }
      bar.finish();
    })();
    const stats = await runLoad(clients, load, prefix);
    await ticker;
    await cleanUp(ctx, first, prefix, config.endpoints);

    const { lines, ok } = perfVerdict(stats, load.limit);
    for (const l of lines) ctx.out.println(l);
    return ok ? undefined : ExitCode.Error;
  },
};
