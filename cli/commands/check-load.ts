/**
 * What `check perf` and `check datascale` share (etcdctl 3.4's check.go and util.go): one client
 * (connection) per simulated client, a bounded queue of puts (the `requests` channel) served by
 * one worker per client, pkg/report's statistics, random varint keys, the prefix-empty check,
 * and the `--auto-compact` / `--auto-defrag` steps with their lines.
 */
import { type ClientConfig, EtcdClient } from "../client.ts";
import { CtlError, ExitCode } from "../errors.ts";
import { goQuote } from "../go/strconv.ts";
import { prefixEnd } from "./kv-requests.ts";
import type { FlagSpec } from "../flags.ts";
import type { CommandContext } from "./types.ts";

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

/** binary.PutVarint of a random non-negative int63 into `buf` (the rest of `buf` is left as it was). */
export function putRandomVarint(buf: Uint8Array): void {
  const x = (BigInt(Math.floor(Math.random() * 2 ** 31)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32));
  let ux = x << 1n; // zig-zag of a non-negative value
  let i = 0;
  while (ux >= 0x80n) {
    buf[i++] = Number(ux & 0x7fn) | 0x80;
    ux >>= 7n;
  }
  buf[i] = Number(ux);
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bounded queue of puts (etcdctl's `requests` channel of capacity `clients`). */
export class PutQueue {
  private readonly items: Uint8Array[] = [];
  private closed = false;
  private readonly takers: ((k: Uint8Array | undefined) => void)[] = [];
  private readonly pushers: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  /** Adds a key, waiting while the queue is full (a blocked channel send). */
  async push(key: Uint8Array): Promise<void> {
    while (this.items.length >= this.capacity && this.takers.length === 0) await new Promise<void>((r) => this.pushers.push(r));
    const taker = this.takers.shift();
    if (taker) taker(key);
    else this.items.push(key);
  }

  /** The next key; undefined once closed and drained. */
  take(): Promise<Uint8Array | undefined> {
    const item = this.items.shift();
    this.pushers.shift()?.();
    if (item !== undefined) return Promise.resolve(item);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((r) => this.takers.push(r));
  }

  /** No more keys (close(requests)). */
  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t(undefined);
  }
}

/**
 * Serves the puts `produce` pushes with one worker per client and resolves with pkg/report's
 * stats (time counted from the call to the last answer); `onAnswer` runs after each put.
 */
export async function runPuts(
  clients: EtcdClient[],
  value: Uint8Array,
  produce: (push: (key: Uint8Array) => Promise<void>) => Promise<void>,
  onAnswer: () => void = () => {},
): Promise<PerfStats> {
  const queue = new PutQueue(clients.length);
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
      onAnswer();
    }
  });
  const statsStart = performance.now();
  await produce((key) => queue.push(key));
  queue.close();
  await Promise.all(workers);
  return perfStats(latencies, (performance.now() - statsStart) / 1000, errors);
}

/** `count` clients of `config`, each authenticated (etcdctl's mustClient per client). */
export async function openClients(config: ClientConfig, count: number): Promise<EtcdClient[]> {
  const clients: EtcdClient[] = [];
  for (let i = 0; i < count; i++) {
    const c = new EtcdClient(config);
    await c.authenticate();
    clients.push(c);
  }
  return clients;
}

/** clientv3.WithPrefix's range for `prefix` (the empty prefix: every key). */
export function prefixRange(prefix: Uint8Array): { key: Uint8Array; rangeEnd: Uint8Array } {
  return prefix.length === 0 ? { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) } : { key: prefix, rangeEnd: prefixEnd(prefix) };
}

/**
 * etcdctl's check that the prefix holds no key.
 * @throws CtlError exit 3 `prefix "p" has keys. Delete with etcdctl del --prefix p first`
 */
export async function requireEmptyPrefix(client: EtcdClient, prefixText: string, timeoutMs: number | null): Promise<void> {
  const range = prefixRange(new TextEncoder().encode(prefixText));
  const existing = await client.call((s, o) => s.kv.range({ ...range, limit: 1n }, o), { timeoutMs });
  if (existing.kvs.length > 0) {
    throw new CtlError(ExitCode.InvalidInput, `prefix ${goQuote(prefixText)} has keys. Delete with etcdctl del --prefix ${prefixText} first`);
  }
}

/** Deletes the prefix, then `--auto-compact` (at the delete's revision) and `--auto-defrag` (every endpoint) as etcdctl. */
export async function cleanUp(ctx: CommandContext, client: EtcdClient, prefix: Uint8Array, endpoints: string[]): Promise<void> {
  const deleted = await client.call((s, o) => s.kv.deleteRange(prefixRange(prefix), o), { timeoutMs: CLEANUP_TIMEOUT_MS });
  if (ctx.flags.bool("auto-compact")) await compact(ctx, client, deleted.header!.revision);
  if (ctx.flags.bool("auto-defrag")) for (const ep of endpoints) await defrag(ctx, client, ep);
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

/** etcdctl's load names and their aliases (check_command.go): s|small, m|medium, l|large, xl|xLarge. */
const LOAD_ALIASES: Record<string, string> = { s: "s", small: "s", m: "m", medium: "m", l: "l", large: "l", xl: "xl", xLarge: "xl" };

/**
 * The workload model `--load` names (`s`, `m`, `l` or `xl`). Errors: `unknown load option <name>`
 * (exit 4, ExitCode.BadFeature), as etcdctl 3.4.
 */
export function loadModel(ctx: CommandContext): string {
  const name = ctx.flags.string("load");
  if (!Object.hasOwn(LOAD_ALIASES, name)) throw new CtlError(ExitCode.BadFeature, `unknown load option ${name}`);
  return LOAD_ALIASES[name]!;
}

/** The flags `check perf` and `check datascale` share, as etcdctl 3.4 defines them; `what` names the check. */
export function checkFlags(what: "performance" | "datascale", defaultPrefix: string): FlagSpec[] {
  return [
    { name: "load", type: "string", default: "s", description: `The ${what} check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)` },
    { name: "prefix", type: "string", default: defaultPrefix, description: `The prefix for writing the ${what} check's keys.` },
    { name: "auto-compact", type: "bool", default: false, description: "Compact storage with last revision after test is finished." },
    { name: "auto-defrag", type: "bool", default: false, description: "Defragment storage after test is finished." },
  ];
}
