/** The benchmark's result document and its Markdown rendering (the table the README carries). */
import type { ServerResult } from "./runner.ts";
import type { WorkloadOptions } from "./workload.ts";

/** Start-up figures of one server. */
export interface ServerInfo {
  label: string;
  binary: string;
  /** Version the server reported in Maintenance.Status, if it answered. */
  version?: string;
  /** Median time from exec to the first answered linearizable Range, in ms. */
  startupMs: number;
  /** That time for each start-up run, in ms. */
  startupRunsMs: number[];
  /** VmRSS of the server's process tree 1 s after start-up, in MB (2^20 bytes). */
  idleRssMB: number;
}

/** Results of one workload: one entry per server, in the order of {@link BenchmarkReport.servers}. */
export interface WorkloadReport {
  description: string;
  options: WorkloadOptions;
  /** Requests in each measured slice of each server. */
  requestsPerSlice: number;
  results: ServerResult[];
}

/** Everything a run measured, as printed by `--json`. */
export interface BenchmarkReport {
  /** Command line that produced the report. */
  command: string;
  /** ISO 8601 start time. */
  date: string;
  machine: { cpu: string; cores: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  settings: {
    /** Client counts; each workload ran once per count. */
    clients: number[];
    conns: number;
    slices: number;
    sliceSeconds: number;
    warmupSeconds: number;
    startupRuns: number;
    total: number;
  };
  servers: ServerInfo[];
  workloads: WorkloadReport[];
  /** Remarks such as "ours not found". */
  notes: string[];
}

const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const fmtMs = (n: number) => (Number.isFinite(n) ? (n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1)) : "–");
const fmtMicros = (n: number) => (Number.isFinite(n) ? (n < 100 ? n.toFixed(1) : n.toFixed(0)) : "–");
const fmtRatio = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "–");
const fmtMB = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "–");
const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");

/** Per-round ratios b/a of two equally long series (paired slices of the same round), sorted ascending. */
function pairedRatios(a: number[], b: number[]): number[] {
  return a.map((x, i) => b[i]! / x).filter(Number.isFinite).sort((x, y) => x - y);
}

/** Median of a list of numbers (NaN when empty). */
export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Renders the report as Markdown: a heading paragraph, a start-up table and the workload table. */
export function toMarkdown(report: BenchmarkReport): string {
  const s = report.settings;
  const [base, other] = report.servers;
  const others = report.servers.slice(1);
  const ratioLabel = others.length === 1 ? `${other!.label}/${base!.label}` : `each/${base!.label}`;
  const lines: string[] = [];
  lines.push(`Command: \`${report.command}\``, "");
  lines.push(
    `${report.date}, ${report.machine.cores} × ${report.machine.cpu}, load average ${fmtLoad(report.machine.loadAverageBefore)} ` +
      `before, ${fmtLoad(report.machine.loadAverageAfter)} after. ${s.clients.join(" or ")} clients over ${s.conns} HTTP/2 ` +
      `connection${s.conns === 1 ? "" : "s"}. Per workload: ${s.warmupSeconds} s warm-up of ${base!.label} (same ` +
      `request count for the other), then ${s.slices} rounds in which each server runs a slice of the same request ` +
      `count (≈ ${s.sliceSeconds} s on ${base!.label}; ≤ ${fmtInt(s.total)} requests per server in all), the order ` +
      `alternating. The load generator is a separate Bun process on the same cores; its CPU is shown too. ` +
      `Start-up: median of ${s.startupRuns} runs.`,
    "",
  );
  for (const note of report.notes) lines.push(`Note: ${note}`, "");
  lines.push("| server | binary | exec → first answer (ms) | runs (ms) | idle RSS (MB) |", "|---|---|--:|---|--:|");
  for (const info of report.servers) {
    const binary = info.version ? `${info.binary} (${info.version})` : info.binary;
    const runs = info.startupRunsMs.map(fmtInt).join(", ");
    lines.push(`| ${info.label} | ${binary} | ${fmtInt(info.startupMs)} | ${runs} | ${info.idleRssMB.toFixed(1)} |`);
  }
  for (const o of others) {
    lines.push(`| **${o.label}/${base!.label}** | | ${fmtRatio(o.startupMs / base!.startupMs)} | | ${fmtRatio(o.idleRssMB / base!.idleRssMB)} |`);
  }
  lines.push(
    "",
    "| workload | server | req/s | slices req/s | p50 (ms) | p99 (ms) | server CPU (µs/op) | generator CPU (µs/op) | peak RSS (MB) | errors |",
    "|---|---|--:|---|--:|--:|--:|--:|--:|--:|",
  );
  for (const w of report.workloads) {
    w.results.forEach((r, i) => {
      const spread = `${fmtInt(Math.min(...r.sliceRequestsPerSecond))}–${fmtInt(Math.max(...r.sliceRequestsPerSecond))}`;
      lines.push(
        `| ${i === 0 ? `${w.description}, ${s.slices} × ${fmtInt(w.requestsPerSlice)} req` : ""} | ${r.label} | ${fmtInt(r.requestsPerSecond)} | ${spread} | ${fmtMs(r.p50Ms)} | ` +
          `${fmtMs(r.p99Ms)} | ${fmtMicros(r.serverCpuMicrosPerOp)} | ${fmtMicros(r.generatorCpuMicrosPerOp)} | ${fmtMB(r.peakRssMB)} | ${r.errors} |`,
      );
    });
    const [a, ...bs] = w.results;
    for (const b of a ? bs : []) {
      const rounds = pairedRatios(a!.sliceRequestsPerSecond, b.sliceRequestsPerSecond);
      lines.push(
        `| | **${b.label}/${a!.label}** | **${fmtRatio(b.requestsPerSecond / a!.requestsPerSecond)}** | ` +
          `median ${fmtRatio(median(rounds))} (${fmtRatio(rounds[0]!)}–${fmtRatio(rounds.at(-1)!)}) | ` +
          `${fmtRatio(b.p50Ms / a.p50Ms)} | ` +
          `${fmtRatio(b.p99Ms / a.p99Ms)} | ${fmtRatio(b.serverCpuMicrosPerOp / a.serverCpuMicrosPerOp)} | ` +
          `${fmtRatio(b.generatorCpuMicrosPerOp / a.generatorCpuMicrosPerOp)} | ${fmtRatio(b.peakRssMB / a.peakRssMB)} | |`,
      );
    }
  }
  lines.push(
    "",
    `req/s: successful requests over measured time; "slices req/s": slowest–fastest slice` +
      (other ? `; for ${ratioLabel}, the median (lowest–highest) of the rounds' paired-slice ratios` : "") +
      `. Server CPU: utime+stime of the server's process tree from /proc, over each slice plus a short settle pause. ` +
      `Peak RSS: the server's VmHWM over the workload (reset to the current RSS before it starts, so memory kept from ` +
      `earlier workloads counts).`,
  );
  return lines.join("\n");
}
