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
import { EtcdClient } from "../client.ts";
import { CtlError, ExitCode } from "../errors.ts";
import { GoProgressBar } from "../go/pb.ts";
import { goQuote } from "../go/strconv.ts";
import type { CommandContext, CommandSpec } from "./types.ts";
import { prefixEnd } from "./kv-requests.ts";

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
const LOAD_ALIASES: Record<string, string> = { s: "s", small: "s", m: "m", medium: "m", l: "l", large: "l", xl: "xl", xLarge: "xl" };

const KEY_BYTES = 256;
const VALUE_BYTES = 1024;
/** Timeout of the delete, compaction and defragment calls after the run, ms (etcdctl: 30 s). */
const CLEANUP_TIMEOUT_MS = 30_000;

/** etcd's pkg/report numbers for the run. */
export interface PerfStats {
  /** Successful puts per second over the whole run. */
  rps: number;
  /** Slowest successful put, s. */
  slowestS: number;
  /** Population standard deviation of the put latencies, s. */
  stddevS: number;
  /** Error text → count. */
  errors: Map<string, number>;
}

/** pkg/report's Stats for latencies in seconds over `totalS` seconds. */
export function perfStats(latenciesS: number[], totalS: number, errors: Map<string, number>): PerfStats {
  const n = latenciesS.length;
  const average = latenciesS.reduce((a, b) => a + b, 0) / n;
  const stddevS = Math.sqrt(latenciesS.reduce((a, l) => a + (l - average) ** 2, 0) / n);
  let slowestS = 0;
  for (const l of latenciesS) if (l > slowestS) slowestS = l;
  return { rps: n / totalS, slowestS, stddevS, errors };
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

/** binary.PutVarint of a random non-negative int63 into `buf` (the rest of `buf` is left as it was). */
function putRandomVarint(buf: Uint8Array): void {
  const x = (BigInt(Math.floor(Math.random() * 2 ** 31)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32));
  let ux = x << 1n; // zig-zag of a non-negative value
  let i = 0;
  while (ux >= 0x80n) {
    buf[i++] = Number(ux & 0x7fn) | 0x80;
    ux >>= 7n;
  }
  buf[i] = Number(ux);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bounded queue of puts (etcdctl's `requests` channel of capacity `clients`). */
class PutQueue {
  private readonly items: Uint8Array[] = [];
  private closed = false;
  private readonly takers: ((k: Uint8Array | undefined) => void)[] = [];
  private readonly pushers: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  async push(key: Uint8Array): Promise<void> {
    while (this.items.length >= this.capacity && this.takers.length === 0) await new Promise<void>((r) => this.pushers.push(r));
    const taker = this.takers.shift();
    if (taker) taker(key);
    else this.items.push(key);
  }

  take(): Promise<Uint8Array | undefined> {
    const item = this.items.shift();
    this.pushers.shift()?.();
    if (item !== undefined) return Promise.resolve(item);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((r) => this.takers.push(r));
  }

  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t(undefined);
  }
}

/** Runs the load; resolves with the stats once every put has answered. */
async function runLoad(clients: EtcdClient[], load: PerfLoad, prefix: Uint8Array): Promise<PerfStats> {
  const queue = new PutQueue(load.clients);
  const value = new Uint8Array(VALUE_BYTES);
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  const workers = clients.map(async (c) => {
    for (let key = await queue.take(); key !== undefined; key = await queue.take()) {
      const start = performance.now();
      try {
        await c.call((s, o) => s.kv.put({ key, value }, o), { timeoutMs: null });
        latencies.push((performance.now() - start) / 1000);
      } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        errors.set(text, (errors.get(text) ?? 0) + 1);
      }
    }
  });
  const statsStart = performance.now();
  // rate.NewLimiter(limit, 1) with a deadline of `durationS`: one token every 1/limit s, no saving up.
  const intervalMs = 1000 / load.limit;
  const deadline = statsStart + load.durationS * 1000;
  const k = new Uint8Array(KEY_BYTES);
  for (let next = statsStart; ; next += intervalMs) {
    const now = performance.now();
    if (next < now) next = now;
    if (next > deadline) break;
    if (next - now >= 1) await sleep(next - now);
    putRandomVarint(k);
    const key = new Uint8Array(prefix.length + KEY_BYTES);
    key.set(prefix);
    key.set(k, prefix.length);
    await queue.push(key);
  }
  queue.close();
  await Promise.all(workers);
  return perfStats(latencies, (performance.now() - statsStart) / 1000, errors);
}

/** etcdctl's compact(): physical compaction at `rev` with its two lines. */
async function compact(ctx: CommandContext, client: EtcdClient, rev: bigint): Promise<void> {
  ctx.out.println(`Compacting with revision ${rev}`);
  await client.call((s, o) => s.kv.compact({ revision: rev, physical: true }, o), { timeoutMs: CLEANUP_TIMEOUT_MS });
  ctx.out.println(`Compacted with revision ${rev}`);
}

/** etcdctl's defrag() of one endpoint with its two lines (Go `%q` of the endpoint). */
async function defrag(ctx: CommandContext, client: EtcdClient, endpoint: string): Promise<void> {
  ctx.out.println(`Defragmenting ${goQuote(endpoint)}`);
  await client.call((s, o) => s.maintenance.defragment({}, o), { endpoint, timeoutMs: CLEANUP_TIMEOUT_MS });
  ctx.out.println(`Defragmented ${goQuote(endpoint)}`);
}

/** `check perf`. */
export const checkPerfCommand: CommandSpec = {
  path: ["check", "perf"],
  usage: "[options]",
  description: "Check the performance of the etcd cluster",
  groupDescription: "commands for checking properties of the etcd cluster",
  flags: [
    { name: "load", type: "string", default: "s", description: "The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)" },
    { name: "prefix", type: "string", default: "/etcdctl-check-perf/", description: "The prefix for writing the performance check's keys." },
    { name: "auto-compact", type: "bool", default: false, description: "Compact storage with last revision after test is finished." },
    { name: "auto-defrag", type: "bool", default: false, description: "Defragment storage after test is finished." },
  ],
  async run(ctx) {
    const loadName = ctx.flags.string("load");
    const model = Object.hasOwn(LOAD_ALIASES, loadName) ? LOAD_ALIASES[loadName]! : undefined;
    if (model === undefined) throw new CtlError(ExitCode.BadFeature, `unknown load option ${loadName}`);
    const load = PERF_LOADS[model]!;
    const prefixText = ctx.flags.string("prefix");
    const prefix = new TextEncoder().encode(prefixText);

    const config = await ctx.clientConfig();
    const clients: EtcdClient[] = [];
    for (let i = 0; i < load.clients; i++) {
      const c = new EtcdClient(config);
      await c.authenticate();
      clients.push(c);
    }
    const first = clients[0]!;
    const end = prefix.length === 0 ? Uint8Array.of(0) : prefixEnd(prefix);
    const existing = await first.call((s, o) => s.kv.range({ key: prefix.length === 0 ? Uint8Array.of(0) : prefix, rangeEnd: end, limit: 1n }, o), {
      timeoutMs: load.durationS * 1000,
    });
    if (existing.kvs.length > 0) {
      throw new CtlError(ExitCode.InvalidInput, `prefix ${goQuote(prefixText)} has keys. Delete with etcdctl del --prefix ${prefixText} first`);
    }

    const bar = new GoProgressBar(load.durationS, {
      write: (text) => {
        ctx.out.print(text);
        void ctx.out.flush();
      },
      width: () => (process.stdout.isTTY ? (process.stdout.columns ?? 0) : 0),
    });
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

    const deleted = await first.call(
      (s, o) => s.kv.deleteRange({ key: prefix.length === 0 ? Uint8Array.of(0) : prefix, rangeEnd: end }, o),
      { timeoutMs: CLEANUP_TIMEOUT_MS },
    );
    if (ctx.flags.bool("auto-compact")) await compact(ctx, first, deleted.header!.revision);
    if (ctx.flags.bool("auto-defrag")) for (const ep of config.endpoints) await defrag(ctx, first, ep);

    const { lines, ok } = perfVerdict(stats, load.limit);
    for (const l of lines) ctx.out.println(l);
    return ok ? undefined : ExitCode.Error;
  },
};
