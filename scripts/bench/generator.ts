/**
 * Load-generator child process of the benchmark (started by generator-handle.ts; not meant to be run by hand).
 * It keeps one {@link Caller} (`conns` HTTP/2 connections) per server and one prepared {@link Operation} per server
 * and workload, and runs timed slices on request over IPC, so the orchestrator can measure this process's CPU
 * separately from the servers'.
 */
import { createCaller, type Caller } from "./callers.ts";
import { accessMetadata, nodeTlsOptions, type ServerAccess } from "./security.ts";
import { Histogram } from "./histogram.ts";
import type { GeneratorReply, GeneratorRequest, RunRequest, SliceResult } from "./protocol.ts";
import type { Operation, WorkloadContext, WorkloadOptions } from "./workload.ts";
import { workloadFor } from "./workloads/index.ts";

/** Clients give up on a slice after this many errors (the server is probably gone). */
const MAX_ERRORS_PER_SLICE = 1000;

const callers = new Map<string, Promise<Caller>>();
const operations = new Map<string, Operation>();

/**
 * The workload context for an endpoint, opening its connections on first use (with `access`'s TLS; in auth mode
 * after one Authenticate, whose token every call then carries).
 */
async function contextFor(endpoint: string, access: ServerAccess | undefined, options: WorkloadOptions): Promise<WorkloadContext> {
  const key = `${options.client} ${options.conns} ${endpoint}`;
  let caller = callers.get(key);
  if (!caller) {
    caller = accessMetadata(endpoint, access).then((metadata) =>
      createCaller(options.client, endpoint, options.conns, { tls: nodeTlsOptions(access), metadata }),
    );
    callers.set(key, caller);
  }
  return { caller: await caller, options, endpoint };
}

/** The prepared operation of a workload against an endpoint (built once, reused by every slice). */
async function operationFor(endpoint: string, access: ServerAccess | undefined, options: WorkloadOptions): Promise<Operation> {
  const key = `${endpoint} ${JSON.stringify(options)}`;
  let op = operations.get(key);
  if (!op) {
    op = workloadFor(options.mode).operation(await contextFor(endpoint, access, options));
    operations.set(key, op);
  }
  return op;
}

/** Runs one slice of closed-loop clients; see {@link RunRequest}. */
async function runSlice(request: RunRequest): Promise<SliceResult> {
  const op = await operationFor(request.endpoint, request.access, request.options);
  const histogram = new Histogram();
  let started = 0;
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + request.maxMs;
  const client = async (clientIndex: number): Promise<void> => {
    while (started < request.maxRequests && errors < MAX_ERRORS_PER_SLICE) {
      const start = performance.now();
      if (start >= deadline) return;
      const seq = request.seqBase + started++;
      try {
        await op(seq, clientIndex);
        histogram.record(performance.now() - start);
        ops++;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  const clients: Promise<void>[] = [];
  for (let i = 0; i < request.options.clients; i++) clients.push(client(i));
  await Promise.all(clients);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    ops,
    errors,
    firstError,
    elapsedMs,
    histogram: Array.from(histogram.counts),
    generatorCpuMicros: cpu.user + cpu.system,
  };
}

/** Handles one request; the reply carries the request's id. */
async function handle(request: GeneratorRequest): Promise<GeneratorReply> {
  switch (request.kind) {
    case "prepare":
      await workloadFor(request.options.mode).prepare?.(await contextFor(request.endpoint, request.access, request.options));
      return { id: request.id };
    case "run":
      return { id: request.id, result: await runSlice(request) };
    case "exit":
      for (const caller of callers.values()) void caller.then((c) => c.close(), () => undefined);
      setTimeout(() => process.exit(0), 10);
      return { id: request.id };
  }
}

process.on("message", (message: GeneratorRequest) => {
  handle(message).then(
    (reply) => process.send!(reply),
    (err) => process.send!({ id: message.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
// Exit with the orchestrator: its IPC channel closes when it dies.
process.on("disconnect", () => process.exit(0));
