/**
 * Runs one workload against one or two servers in alternating short slices (A B, B A, A B... so slow drift of the
 * shared machine hits both alike), after an unmeasured warm-up slice per server, and aggregates the results.
 */
import type { GeneratorHandle } from "./generator-handle.ts";
import { Histogram } from "./histogram.ts";
import type { RunningServer } from "./server.ts";
import type { WorkloadOptions } from "./workload.ts";
import { alternateRounds } from "./slices.ts";

/**
 * What the runner needs of a server under load: a label, the endpoint to load (with its security mode's access, if
 * any), its CPU time so far (µs) and its peak RSS.
 */
export type LoadTarget = Pick<RunningServer, "spec" | "endpoint" | "cpuMicros" | "peakRssBytes" | "resetPeakRss"> &
  Partial<Pick<RunningServer, "access">>;

/** How slices are cut. */
export interface SliceSettings {
  /** Measured slices per server and workload. */
  slices: number;
  /** Target duration of one slice on the first server, in ms; it sets the slice's request count. */
  sliceMs: number;
  /** Duration of the unmeasured warm-up of the first server, in ms (> 0; its second half calibrates the slice size). */
  warmupMs: number;
  /** Request limit per server and workload over all measured slices (`--total`). */
  totalPerServer: number;
  /** Idle pause after each slice before the server's CPU is read, in ms, so deferred work is charged to it. */
  settleMs: number;
}

/** A slice still stops after this many times its target duration, whatever its request count. */
const SLICE_TIME_LIMIT_FACTOR = 5;

/** Aggregate of one server's measured slices for one workload. */
export interface ServerResult {
  /** Server label ("etcd", "ours"). */
  label: string;
  /** Successful requests. */
  ops: number;
  /** Failed requests, and the first failure's message. */
  errors: number;
  firstError?: string;
  /** Sum of the slices' wall times, in ms. */
  elapsedMs: number;
  /** ops / elapsed, in requests per second. */
  requestsPerSecond: number;
  /** Requests per second of each slice, in run order. */
  sliceRequestsPerSecond: number[];
  /** Latency quantiles of successful requests over all slices, in ms. */
  p50Ms: number;
  p99Ms: number;
  /** Server process tree CPU (user + system) per successful request, in µs (includes each slice's settle pause). */
  serverCpuMicrosPerOp: number;
  /** Load-generator CPU per successful request, in µs. */
  generatorCpuMicrosPerOp: number;
  /** Peak RSS of the server's process tree during the workload (prepare, warm-up and slices), in MB (2^20 bytes). */
  peakRssMB: number;
}

/** Accumulator of one server's slices. */
class Accumulator {
  ops = 0;
  errors = 0;
  firstError?: string;
  elapsedMs = 0;
  serverCpuMicros = 0;
  generatorCpuMicros = 0;
  readonly sliceRps: number[] = [];
  readonly histogram = new Histogram();

  result(label: string, peakRssBytes: number): ServerResult {
    const perOp = (micros: number) => (this.ops > 0 ? micros / this.ops : NaN);
    return {
      label,
      ops: this.ops,
      errors: this.errors,
      firstError: this.firstError,
      elapsedMs: this.elapsedMs,
      requestsPerSecond: this.elapsedMs > 0 ? (this.ops * 1000) / this.elapsedMs : NaN,
      sliceRequestsPerSecond: this.sliceRps,
      p50Ms: this.histogram.quantileMs(0.5),
      p99Ms: this.histogram.quantileMs(0.99),
      serverCpuMicrosPerOp: perOp(this.serverCpuMicros),
      generatorCpuMicrosPerOp: perOp(this.generatorCpuMicros),
      peakRssMB: peakRssBytes / 2 ** 20,
    };
  }
}

/** Requests per slice and the per-server results of one workload. */
export interface WorkloadRun {
  /** Request count of every measured slice (the same for each server, so their states evolve alike). */
  requestsPerSlice: number;
  /** One result per server, in the order of the servers given. */
  results: ServerResult[];
}

/**
 * Runs `options` against every server: prepare; a warm-up of the first server for `warmupMs`, the rate of whose
 * second half sets the request count of a slice (≈ `sliceMs` on that server, at most `totalPerServer / slices`); a warm-up of the same
 * count on the others; then `slices` rounds, each server running one slice of that count per round, in order
 * A B, B A, A B... Every slice also stops after 5 × `sliceMs`. Each server's peak RSS is reset before its prepare step
 * and read at the end. `log` receives a progress line per slice.
 * Throws if the generator fails or a slice had only errors.
 */
export async function runWorkload(
  generator: GeneratorHandle,
  servers: LoadTarget[],
  options: WorkloadOptions,
  settings: SliceSettings,
  log: (line: string) => void,
): Promise<WorkloadRun> {
  const cap = Math.max(1, Math.floor(settings.totalPerServer / settings.slices));
  const nextSeq = servers.map(() => 0);
  const acc = servers.map(() => new Accumulator());

  const slice = async (i: number, maxRequests: number, maxMs: number, measured: boolean): Promise<number> => {
    const server = servers[i]!;
    const cpu0 = server.cpuMicros();
    const r = await generator.run({ endpoint: server.endpoint, access: server.access, options, seqBase: nextSeq[i]!, maxRequests, maxMs });
    nextSeq[i]! += r.ops + r.errors;
    await Bun.sleep(settings.settleMs);
    const serverCpu = server.cpuMicros() - cpu0;
    const rps = (r.ops * 1000) / r.elapsedMs;
    log(
      `  ${measured ? "slice  " : "warm-up"} ${server.spec.label.padEnd(6)} ${String(r.ops).padStart(7)} req ` +
        `${rps.toFixed(0).padStart(7)} req/s ${(serverCpu / Math.max(1, r.ops)).toFixed(1).padStart(7)} µs CPU/op` +
        (r.errors ? `  ${r.errors} errors (${r.firstError})` : ""),
    );
    if (r.ops === 0) throw new Error(`${server.spec.label}: every request failed: ${r.firstError}`);
    if (measured) {
      const a = acc[i]!;
      a.ops += r.ops;
      a.errors += r.errors;
      a.firstError ??= r.firstError;
      a.elapsedMs += r.elapsedMs;
      a.serverCpuMicros += serverCpu;
      a.generatorCpuMicros += r.generatorCpuMicros;
      a.sliceRps.push(rps);
      a.histogram.merge(new Histogram(r.histogram));
    }
    return r.ops + r.errors;
  };

  for (const server of servers) {
    server.resetPeakRss();
    await generator.prepare(server.endpoint, options, server.access);
  }
  const limitMs = settings.sliceMs * SLICE_TIME_LIMIT_FACTOR;
  // The first server warms up in two halves; the second, warmer half calibrates the slice size.
  const firstHalf = await slice(0, cap, settings.warmupMs / 2, false);
  const calibration = await slice(0, cap, settings.warmupMs / 2, false);
  const warmupRequests = firstHalf + calibration;
  const requestsPerSlice = Math.max(1, Math.min(cap, Math.round((calibration * settings.sliceMs * 2) / settings.warmupMs)));
  for (let i = 1; i < servers.length; i++) await slice(i, warmupRequests, settings.warmupMs * SLICE_TIME_LIMIT_FACTOR, false);
  await alternateRounds(servers.length, settings.slices, async (i) => void (await slice(i, requestsPerSlice, limitMs, true)));
  return { requestsPerSlice, results: servers.map((s, i) => acc[i]!.result(s.spec.label, s.peakRssBytes())) };
}
