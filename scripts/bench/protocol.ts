/**
 * Messages between the benchmark orchestrator (scripts/benchmark.ts) and its load-generator child process
 * (scripts/bench/generator.ts), sent as JSON over Bun's IPC channel. Every request has an `id` echoed in its reply.
 */
import type { ServerAccess } from "./security.ts";
import type { WorkloadOptions } from "./workload.ts";

/** Runs the workload's prepare step (if any) against `endpoint` (e.g. "http://127.0.0.1:2379"). */
export interface PrepareRequest {
  id: number;
  kind: "prepare";
  endpoint: string;
  /** TLS files and user of the server's security mode (none: cleartext, no auth). */
  access?: ServerAccess;
  options: WorkloadOptions;
}

/**
 * Runs one slice: `options.clients` closed-loop clients issue requests numbered `seqBase`, `seqBase + 1`... until
 * `maxRequests` have been started or `maxMs` milliseconds have passed, whichever comes first.
 */
export interface RunRequest {
  id: number;
  kind: "run";
  endpoint: string;
  /** As in PrepareRequest. */
  access?: ServerAccess;
  options: WorkloadOptions;
  seqBase: number;
  maxRequests: number;
  maxMs: number;
}

/** Closes every connection and exits the generator. */
export interface ExitRequest {
  id: number;
  kind: "exit";
}

/** Any request to the generator. */
export type GeneratorRequest = PrepareRequest | RunRequest | ExitRequest;

/** Outcome of one slice. Latencies are in the histogram (see histogram.ts), times in milliseconds. */
export interface SliceResult {
  /** Requests answered successfully. */
  ops: number;
  /** Requests that failed. */
  errors: number;
  /** Message of the first failure, if any. */
  firstError?: string;
  /** Wall time from the first request sent to the last answer, in ms. */
  elapsedMs: number;
  /** Bucket counts of the latency histogram of successful requests. */
  histogram: number[];
  /** CPU time (user + system) the generator process used during the slice, in µs (process.cpuUsage). */
  generatorCpuMicros: number;
}

/** Reply to a request: `result` for a run, nothing for prepare/exit, `error` when the request failed. */
export interface GeneratorReply {
  id: number;
  result?: SliceResult;
  error?: string;
}
