/**
 * Backend-level operations for the snapshot and defrag benchmarks (scripts/snapshot-rss.ts,
 * scripts/snapshot-defrag-bench.ts), the same for etcd 3.4 and ours: fill a server's backend to
 * a size with puts, read its Status sizes, save a snapshot with the Go `etcdctl snapshot save`
 * while sampling the server's RSS, compact and defragment.
 */
import cac from "cac";
import { createClient } from "@connectrpc/connect";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { KV, Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { treeRssBytes } from "./proc.ts";
import { accessMetadata } from "./security.ts";
import { withTransport, type RunningServer } from "./server.ts";

/** The Go etcdctl the snapshot is saved with (a real client of both servers). */
export const GO_ETCDCTL = process.env.GO_ETCDCTL ?? "/usr/bin/etcdctl";

const MIB = 1024 * 1024;

/**
 * `--quota-backend-bytes` for a fill of `sizeMib` MiB of values: room for the values, the Raft
 * log ours keeps in the same file, and free pages (at least etcd's 2 GiB default).
 */
export function quotaFlags(sizeMib: number): string[] {
  return ["--quota-backend-bytes", String(Math.max(2 * 1024 * MIB, 3 * sizeMib * MIB))];
}

/** The command line both backend scripts share, parsed. */
export interface BackendBenchFlags {
  sizeMib: number;
  valueKib: number;
  /** Our etcd binary (default dist/etcd) and etcd 3.4's (default /usr/bin/etcd). */
  ours: string;
  etcd: string;
  json: boolean;
  /** The cac options, for flags a script adds through `extra`. */
  options: { [flag: string]: unknown };
}

/**
 * Parses `--size-mib` (MiB of values) and `--value-kib` (value size, KiB) with the script's
 * defaults, `--ours`, `--etcd`, `--json`, plus what `extra` adds to the cac instance; `--help`
 * prints and exits 0. Exits with status 2 and a message when a size is out of range.
 */
export function backendBenchFlags(
  name: string,
  defaults: { sizeMib: number; valueKib: number },
  extra?: (cli: ReturnType<typeof cac>) => void,
): BackendBenchFlags {
  const cli = cac(name);
  cli.option("--size-mib <n>", "MiB of values to write", { default: defaults.sizeMib });
  cli.option("--value-kib <n>", "value size, KiB", { default: defaults.valueKib });
  extra?.(cli);
  cli.option("--ours <path>", "our etcd binary", { default: fileURLToPath(new URL("../../dist/etcd", import.meta.url)) });
  cli.option("--etcd <path>", "etcd 3.4 binary", { default: "/usr/bin/etcd" });
  cli.option("--json", "print JSON instead of Markdown");
  cli.help();
  const { options } = cli.parse();
  if (options.help) process.exit(0);
  const sizeMib = Number(options.sizeMib);
  const valueKib = Number(options.valueKib);
  if (!(sizeMib > 0) || !(valueKib > 0) || valueKib > 1024) {
    console.error("--size-mib must be > 0 and --value-kib in (0, 1024]");
    process.exit(2);
  }
  return { sizeMib, valueKib, ours: String(options.ours), etcd: String(options.etcd), json: Boolean(options.json), options };
}

/** Status sizes, bytes: `dbSize` (the file) and `dbSizeInUse`. */
export async function dbSizes(server: RunningServer): Promise<{ dbSize: number; dbSizeInUse: number }> {
  const st = await withTransport(server.endpoint, (t) => createClient(Maintenance, t).status({}), server.access);
  return { dbSize: Number(st.dbSize), dbSizeInUse: Number(st.dbSizeInUse) };
}

/**
 * Puts `keys` distinct keys (`/fill/<n>`) with `valueBytes`-byte values over `clients`
 * concurrent callers on one connection: the same data for either server (their files differ:
 * ours also holds its Raft log). `progress` gets the keys written every 1024. Errors: the first
 * failed put (e.g. NOSPACE: raise `--quota-backend-bytes`).
 */
export async function fillBackend(server: RunningServer, keys: number, valueBytes: number, clients = 8, progress?: (done: number) => void): Promise<void> {
  const value = new Uint8Array(valueBytes);
  for (let i = 0; i < value.length; i++) value[i] = (i * 131 + 7) & 0xff;
  let next = 0;
  // With auth (security mode `auth`) as the bench user: a simple token lasts 5 minutes.
  const headers = await accessMetadata(server.endpoint, server.access);
  await withTransport(
    server.endpoint,
    async (t) => {
      const kv = createClient(KV, t);
      const enc = new TextEncoder();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          for (let n = next++; n < keys; n = next++) {
            await kv.put({ key: enc.encode(`/fill/${n}`), value }, { timeoutMs: 30_000, headers });
            if (n % 1024 === 0) progress?.(n);
          }
        }),
      );
    },
    server.access,
  );
}

/** Peak and mean RSS of a process tree sampled every `intervalMs` until stop(), bytes. */
export function sampleRss(pid: number, intervalMs = 20): { stop(): { peakBytes: number; samples: number } } {
  let peakBytes = treeRssBytes(pid);
  let samples = 1;
  const timer = setInterval(() => {
    peakBytes = Math.max(peakBytes, treeRssBytes(pid));
    samples++;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peakBytes = Math.max(peakBytes, treeRssBytes(pid));
      return { peakBytes, samples: samples + 1 };
    },
  };
}

/** One `etcdctl snapshot save`: wall time, file size, and the server's peak RSS meanwhile. */
export interface SnapshotRun {
  seconds: number;
  fileBytes: number;
  mibPerSecond: number;
  peakRssBytes: number;
}

/**
 * Runs the Go `etcdctl snapshot save <path>` against `server` while sampling its RSS. Throws
 * Error with etcdctl's output when it fails.
 */
export async function snapshotSave(server: RunningServer, path: string): Promise<SnapshotRun> {
  const rss = sampleRss(server.pid);
  const t0 = performance.now();
  const proc = Bun.spawn([GO_ETCDCTL, `--endpoints=${server.endpoint}`, "snapshot", "save", path], {
    env: { ...process.env, ETCDCTL_API: "3" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const seconds = (performance.now() - t0) / 1000;
  const { peakBytes } = rss.stop();
  if (code !== 0) throw new Error(`etcdctl snapshot save against ${server.spec.label} exited ${code}: ${out}${err}`);
  const fileBytes = statSync(path).size;
  return { seconds, fileBytes, mibPerSecond: fileBytes / MIB / seconds, peakRssBytes: peakBytes };
}

/** Deletes every other filled key (`/fill/<even>`), then compacts physically at the current revision. */
export async function freeHalf(server: RunningServer, keys: number): Promise<void> {
  await withTransport(
    server.endpoint,
    async (t) => {
      const kv = createClient(KV, t);
      const enc = new TextEncoder();
      let rev = 0n;
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let n = next; n < keys; n = next) {
            next += 2;
            const r = await kv.deleteRange({ key: enc.encode(`/fill/${n}`) }, { timeoutMs: 30_000 });
            if (r.header && r.header.revision > rev) rev = r.header.revision;
          }
        }),
      );
      await kv.compact({ revision: rev, physical: true }, { timeoutMs: 120_000 });
    },
    server.access,
  );
}

/** How long a Defragment (and a put waiting behind one) may take, ms. */
const DEFRAG_TIMEOUT_MS = 600_000;

/**
 * Maintenance.Defragment: its wall time, the file size (Status.dbSize) before and after, and
 * Status.dbSizeInUse after, bytes.
 */
export async function defragment(server: RunningServer): Promise<{ seconds: number; beforeBytes: number; afterBytes: number; afterInUseBytes: number }> {
  const before = await dbSizes(server);
  const t0 = performance.now();
  await withTransport(server.endpoint, (t) => createClient(Maintenance, t).defragment({}, { timeoutMs: DEFRAG_TIMEOUT_MS }), server.access);
  const seconds = (performance.now() - t0) / 1000;
  const after = await dbSizes(server);
  return { seconds, beforeBytes: before.dbSize, afterBytes: after.dbSize, afterInUseBytes: after.dbSizeInUse };
}

/**
 * Puts small values in a closed loop (one client) on its own connection until `until` settles;
 * returns the latencies' p99 and max (ms), the count and how many failed. A failed put counts
 * with its time to fail (etcd 3.4 answers puts queued behind a long Defragment with
 * `etcdserver: request timed out` after its 7 s request timeout); the first error is kept.
 */
export async function putLatencyDuring(
  server: RunningServer,
  until: Promise<unknown>,
): Promise<{ p99Ms: number; maxMs: number; puts: number; failed: number; firstError?: string }> {
  let done = false;
  void until.finally(() => (done = true));
  const lat: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  await withTransport(
    server.endpoint,
    async (t) => {
      const kv = createClient(KV, t);
      const enc = new TextEncoder();
      for (let i = 0; !done; i++) {
        const t0 = performance.now();
        try {
          // As long as the defrag may take.
          await kv.put({ key: enc.encode(`/during/${i % 100}`), value: enc.encode("x".repeat(64)) }, { timeoutMs: DEFRAG_TIMEOUT_MS });
        } catch (e) {
          failed++;
          firstError ??= String(e);
        }
        lat.push(performance.now() - t0);
      }
    },
    server.access,
  );
  lat.sort((a, b) => a - b);
  const p99Ms = lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]! : 0;
  return { p99Ms, maxMs: lat.at(-1) ?? 0, puts: lat.length, failed, firstError };
}
