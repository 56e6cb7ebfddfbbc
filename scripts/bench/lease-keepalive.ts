/**
 * The benchmark's `lease-keepalive` mode: `leases` leases kept alive over `streams` LeaseKeepAlive streams (one
 * HTTP/2 connection each), closed loop: every lease has one keep-alive in flight and sends the next as soon as its
 * answer arrives. Runs against each server in alternating slices (A B, B A...) after an unmeasured warm-up slice per
 * server; every slice runs in a fresh load process (this file run as a script) so its CPU is apart from the
 * servers'. Reports keep-alives answered per second, keep-alive latency p50/p99, answers with TTL <= 0 (lost
 * leases), and server CPU per keep-alive, plus the ours/etcd ratios.
 *
 *   bun scripts/bench/lease-keepalive.ts '<LeaseSliceConfig as JSON>'   (load process; not meant to be run by hand)
 */
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Lease, LeaseKeepAliveRequestSchema, type LeaseKeepAliveRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { RequestQueue } from "../../cli/request-queue.ts";
import { Histogram } from "./histogram.ts";
import { median } from "./report.ts";
import type { RunningServer } from "./server.ts";
import { alternateRounds, runLoadProcess } from "./slices.ts";

const SELF = fileURLToPath(import.meta.url);

/** Settings of the lease-keepalive mode. */
export interface LeaseBenchOptions {
  /** Leases kept alive (default 1000). */
  leases: number;
  /** Keep-alive streams, one connection each, the leases are spread over (default 10). */
  streams: number;
  /** Length of one slice, seconds. */
  sliceSeconds: number;
  /** Length of each server's unmeasured warm-up slice, seconds (`--warmup-seconds`). */
  warmupSeconds: number;
  /** Measured slices per server. */
  slices: number;
}

/** What one load process does. */
export interface LeaseSliceConfig {
  endpoint: string;
  leases: number;
  streams: number;
  /** How long keep-alives are sent, seconds. */
  seconds: number;
}

/** What one slice measured. Times in ms. */
export interface LeaseSliceResult {
  keepAlives: number;
  /** Answers with TTL <= 0: the lease was gone. */
  lost: number;
  elapsedMs: number;
  /** Send→answer latency histogram counts (see histogram.ts). */
  histogram: number[];
  /** CPU (user + system) of the load process, µs. */
  loadCpuMicros: number;
}

/** One server's aggregate over its measured slices. */
export interface LeaseServerResult {
  label: string;
  keepAlives: number;
  lost: number;
  keepAlivesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Median over the measured slices of each slice's keep-alives/s. */
  sliceMedianPerSecond: number;
  /** Server process CPU per keep-alive, µs. */
  serverCpuMicrosPerKeepAlive: number;
  /** Peak RSS of the server's process tree over the mode's slices (warm-up included), in MB. */
  peakRssMB: number;
}

/** The lease-keepalive mode's report. */
export interface LeaseReport {
  description: string;
  options: LeaseBenchOptions;
  results: LeaseServerResult[];
}

/** Grants the leases (TTL 60 s), runs the keep-alive loops for `seconds`, then revokes the leases (not timed). */
async function runSlice(c: LeaseSliceConfig): Promise<LeaseSliceResult> {
  const transports = Array.from({ length: c.streams }, () => createGrpcTransport({ baseUrl: c.endpoint }));
  const unary = createClient(Lease, transports[0]!);
  const ids: bigint[] = [];
  for (let i = 0; i < c.leases; i += 100) {
    const batch = Array.from({ length: Math.min(100, c.leases - i) }, () => unary.leaseGrant({ TTL: 60n }));
    for (const r of await Promise.all(batch)) ids.push(r.ID);
  }
  const histogram = new Histogram();
  const ac = new AbortController();
  let keepAlives = 0;
  let lost = 0;
  let running = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const loops = transports.map(async (transport, s) => {
    const mine = ids.filter((_, i) => i % c.streams === s);
    const queue = new RequestQueue<LeaseKeepAliveRequest>();
    // Answers on one stream come back in request order, so a FIFO of send times matches them.
    const sent: number[] = [];
    const send = (id: bigint) => {
      sent.push(performance.now());
      queue.push(create(LeaseKeepAliveRequestSchema, { ID: id }));
    };
    for (const id of mine) send(id);
    let outstanding = mine.length;
    for await (const r of createClient(Lease, transport).leaseKeepAlive(queue, { signal: ac.signal })) {
      histogram.record(performance.now() - sent.shift()!);
      keepAlives++;
      if (r.TTL <= 0n) lost++;
      if (running) send(r.ID);
      else if (--outstanding === 0) break;
    }
    queue.close();
  });
  await Bun.sleep(c.seconds * 1000);
  running = false;
  const elapsedMs = performance.now() - t0;
  const measured = keepAlives;
  await Promise.race([Promise.all(loops), Bun.sleep(10_000)]);
  ac.abort();
  const cpu = process.cpuUsage(cpu0);
  for (let i = 0; i < ids.length; i += 100) {
    await Promise.all(ids.slice(i, i + 100).map((ID) => unary.leaseRevoke({ ID }).catch(() => {})));
  }
  return { keepAlives: measured, lost, elapsedMs, histogram: Array.from(histogram.counts), loadCpuMicros: cpu.user + cpu.system };
}

/** Runs one slice in a fresh load process; throws with its stderr when it fails. */
function loadSlice(config: LeaseSliceConfig): Promise<LeaseSliceResult> {
  return runLoadProcess<LeaseSliceResult>(SELF, config, "lease");
}

/** Runs the lease-keepalive mode against `servers` (first = reference); `log` gets one line per slice. */
export async function runLeaseBenchmark(servers: RunningServer[], options: LeaseBenchOptions, log: (line: string) => void): Promise<LeaseReport> {
  const description = `lease-keepalive (${options.leases} leases kept alive over ${options.streams} streams, one keep-alive in flight per lease)`;
  log(description);
  const acc = servers.map(() => ({ keepAlives: 0, lost: 0, elapsedMs: 0, serverCpu: 0, histogram: new Histogram(), rates: [] as number[] }));
  const slice = async (i: number, measured: boolean) => {
    const server = servers[i]!;
    const cpu0 = server.cpuMicros();
    const r = await loadSlice({ endpoint: server.endpoint, leases: options.leases, streams: options.streams, seconds: measured ? options.sliceSeconds : options.warmupSeconds });
    const serverCpu = server.cpuMicros() - cpu0;
    const h = new Histogram(r.histogram);
    const rate = (r.keepAlives * 1000) / Math.max(1, r.elapsedMs);
    log(
      `  ${measured ? "slice  " : "warm-up"} ${server.spec.label.padEnd(6)} ${String(r.keepAlives).padStart(8)} keep-alives ` +
        `${rate.toFixed(0).padStart(7)} /s p50 ${h.quantileMs(0.5).toFixed(2)} ms p99 ${h.quantileMs(0.99).toFixed(2)} ms` +
        (r.lost ? `  ${r.lost} lost` : ""),
    );
    if (!measured) return;
    const a = acc[i]!;
    a.keepAlives += r.keepAlives;
    a.lost += r.lost;
    a.elapsedMs += r.elapsedMs;
    a.serverCpu += serverCpu;
    a.histogram.merge(h);
    a.rates.push(rate);
  };
  for (const server of servers) server.resetPeakRss();
  for (let i = 0; i < servers.length; i++) await slice(i, false);
  await alternateRounds(servers.length, options.slices, (i) => slice(i, true));
  const results = servers.map((s, i): LeaseServerResult => {
    const a = acc[i]!;
    return {
      label: s.spec.label,
      peakRssMB: s.peakRssBytes() / 2 ** 20,
      keepAlives: a.keepAlives,
      lost: a.lost,
      keepAlivesPerSecond: (a.keepAlives * 1000) / Math.max(1, a.elapsedMs),
      p50Ms: a.histogram.quantileMs(0.5),
      p99Ms: a.histogram.quantileMs(0.99),
      sliceMedianPerSecond: median(a.rates),
      serverCpuMicrosPerKeepAlive: a.serverCpu / Math.max(1, a.keepAlives),
    };
  });
  return { description, options, results };
}

/** The lease-keepalive report as a Markdown section: one row per server, then the ours/etcd ratios. */
export function leaseMarkdown(report: LeaseReport): string {
  const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
  const lines = [
    `### ${report.description}`,
    "",
    "| server | keep-alives/s | median slice /s | p50 (ms) | p99 (ms) | lost | server CPU/keep-alive (µs) | peak RSS (MB) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of report.results) {
    lines.push(
      `| ${r.label} | ${f(r.keepAlivesPerSecond, 0)} | ${f(r.sliceMedianPerSecond, 0)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${r.lost} | ${f(r.serverCpuMicrosPerKeepAlive)} | ${f(r.peakRssMB, 0)} |`,
    );
  }
  const [ref, ours] = report.results;
  if (ref && ours) {
    lines.push(
      "",
      `ours/etcd: keep-alives/s ×${f(ours.keepAlivesPerSecond / ref.keepAlivesPerSecond)}, p99 ×${f(ours.p99Ms / ref.p99Ms)}, ` +
        `server CPU/keep-alive ×${f(ours.serverCpuMicrosPerKeepAlive / ref.serverCpuMicrosPerKeepAlive)}`,
    );
  }
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  const config = JSON.parse(process.argv[2] ?? "{}") as LeaseSliceConfig;
  runSlice(config).then(
    (r) => {
      process.stdout.write(JSON.stringify(r));
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`lease-keepalive load: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
