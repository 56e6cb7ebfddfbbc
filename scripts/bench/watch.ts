/**
 * The benchmark's `watch` mode: `watchers` watchers on one prefix spread over `streams` Watch streams, puts under
 * that prefix at a fixed rate, against each server in alternating slices (A B, B A...) after an unmeasured warm-up
 * slice per server. Every slice runs in a fresh load process (scripts/bench/watch-load.ts) so its CPU is apart from
 * the servers'. Reports events delivered per second, put→event latency p50/p99, events lost, and server CPU per
 * delivered event, plus the ours/etcd ratios.
 */
import { fileURLToPath } from "node:url";
import { Histogram } from "./histogram.ts";
import { median } from "./report.ts";
import type { RunningServer } from "./server.ts";
import type { WatchSliceConfig, WatchSliceResult } from "./watch-load.ts";
import { alternateRounds, runLoadProcess } from "./slices.ts";

const LOAD_PATH = fileURLToPath(new URL("./watch-load.ts", import.meta.url));

/** Settings of the watch mode. */
export interface WatchBenchOptions {
  /** Watchers in total (default 1000). */
  watchers: number;
  /** Watch streams, one HTTP/2 connection each (default 10). */
  streams: number;
  /** Puts per second (default 100). */
  rate: number;
  /** Length of the puts of one slice, seconds. */
  sliceSeconds: number;
  /** Length of each server's unmeasured warm-up slice, seconds (`--warmup-seconds`). */
  warmupSeconds: number;
  /** Measured slices per server. */
  slices: number;
  /** Value size, bytes. */
  valSize: number;
}

/** One server's aggregate over its measured slices. */
export interface WatchServerResult {
  label: string;
  puts: number;
  putErrors: number;
  expectedEvents: number;
  receivedEvents: number;
  /** Received events / summed slice times (first put to last event), per second. */
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Median over the measured slices of each slice's p50 / p99 (robust to a slice disturbed by other load). */
  sliceMedianP50Ms: number;
  sliceMedianP99Ms: number;
  /** Server process CPU per received event, µs. */
  serverCpuMicrosPerEvent: number;
  /** Load process CPU per received event, µs. */
  loadCpuMicrosPerEvent: number;
  /** Peak RSS of the server's process tree over the mode's slices (warm-up included), in MB. */
  peakRssMB: number;
}

/** The watch mode's report. */
export interface WatchReport {
  description: string;
  options: WatchBenchOptions;
  results: WatchServerResult[];
}

/** Runs one slice in a fresh load process; throws with its stderr when it fails. */
function loadSlice(config: WatchSliceConfig): Promise<WatchSliceResult> {
  return runLoadProcess<WatchSliceResult>(LOAD_PATH, config, "watch");
}

/** Runs the watch mode against `servers` (first = reference); `log` gets one line per slice. */
export async function runWatchBenchmark(servers: RunningServer[], options: WatchBenchOptions, log: (line: string) => void): Promise<WatchReport> {
  const description = `watch (${options.watchers} watchers on one prefix over ${options.streams} streams, ${options.rate} puts/s of ${options.valSize} B)`;
  log(description);
  const acc = servers.map(() => ({ puts: 0, putErrors: 0, expected: 0, received: 0, elapsedMs: 0, serverCpu: 0, loadCpu: 0, histogram: new Histogram(), p50s: [] as number[], p99s: [] as number[] }));
  let sliceNo = 0;
  const slice = async (i: number, measured: boolean) => {
    const server = servers[i]!;
    const cpu0 = server.cpuMicros();
    const r = await loadSlice({
      endpoint: server.endpoint,
      watchers: options.watchers,
      streams: options.streams,
      rate: options.rate,
      seconds: measured ? options.sliceSeconds : options.warmupSeconds,
      valSize: options.valSize,
      prefix: `/watch-bench/${sliceNo++}/`,
      drainMs: 10_000,
    });
    const serverCpu = server.cpuMicros() - cpu0;
    const h = new Histogram(r.histogram);
    const eps = (r.receivedEvents * 1000) / Math.max(1, r.elapsedMs);
    log(
      `  ${measured ? "slice  " : "warm-up"} ${server.spec.label.padEnd(6)} ${String(r.receivedEvents).padStart(8)}/${r.expectedEvents} events ` +
        `${eps.toFixed(0).padStart(7)} ev/s p50 ${h.quantileMs(0.5).toFixed(2)} ms p99 ${h.quantileMs(0.99).toFixed(2)} ms ` +
        `${(serverCpu / Math.max(1, r.receivedEvents)).toFixed(2)} µs CPU/event` + (r.putErrors ? `  ${r.putErrors} put errors` : ""),
    );
    if (!measured) return;
    const a = acc[i]!;
    a.puts += r.puts;
    a.putErrors += r.putErrors;
    a.expected += r.expectedEvents;
    a.received += r.receivedEvents;
    a.elapsedMs += r.elapsedMs;
    a.serverCpu += serverCpu;
    a.loadCpu += r.loadCpuMicros;
    a.histogram.merge(h);
    a.p50s.push(h.quantileMs(0.5));
    a.p99s.push(h.quantileMs(0.99));
  };
  for (const server of servers) server.resetPeakRss();
  for (let i = 0; i < servers.length; i++) await slice(i, false);
  await alternateRounds(servers.length, options.slices, (i) => slice(i, true));
  const results = servers.map((s, i): WatchServerResult => {
    const a = acc[i]!;
    return {
      label: s.spec.label,
      peakRssMB: s.peakRssBytes() / 2 ** 20,
      puts: a.puts,
      putErrors: a.putErrors,
      expectedEvents: a.expected,
      receivedEvents: a.received,
      eventsPerSecond: (a.received * 1000) / Math.max(1, a.elapsedMs),
      p50Ms: a.histogram.quantileMs(0.5),
      p99Ms: a.histogram.quantileMs(0.99),
      sliceMedianP50Ms: median(a.p50s),
      sliceMedianP99Ms: median(a.p99s),
      serverCpuMicrosPerEvent: a.serverCpu / Math.max(1, a.received),
      loadCpuMicrosPerEvent: a.loadCpu / Math.max(1, a.received),
    };
  });
  return { description, options, results };
}

/** The watch report as a Markdown section: one row per server, then the ours/etcd ratios. */
export function watchMarkdown(report: WatchReport): string {
  const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
  const lines = [
    `### ${report.description}`,
    "",
    "| server | events/s | put→event p50 (ms) | p99 (ms) | median slice p50 / p99 (ms) | events lost | server CPU/event (µs) | load CPU/event (µs) | peak RSS (MB) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of report.results) {
    lines.push(
      `| ${r.label} | ${f(r.eventsPerSecond, 0)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.sliceMedianP50Ms)} / ${f(r.sliceMedianP99Ms)} | ${r.expectedEvents - r.receivedEvents} | ${f(r.serverCpuMicrosPerEvent)} | ${f(r.loadCpuMicrosPerEvent)} | ${f(r.peakRssMB, 0)} |`,
    );
  }
  const [ref, ours] = report.results;
  if (ref && ours) {
    lines.push(
      "",
      `ours/etcd: events/s ×${f(ours.eventsPerSecond / ref.eventsPerSecond)}, p99 latency ×${f(ours.p99Ms / ref.p99Ms)} ` +
        `(median slice p99 ×${f(ours.sliceMedianP99Ms / ref.sliceMedianP99Ms)}), ` +
        `server CPU/event ×${f(ours.serverCpuMicrosPerEvent / ref.serverCpuMicrosPerEvent)}`,
    );
  }
  return lines.join("\n") + "\n";
}
