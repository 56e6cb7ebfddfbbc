/**
 * Orchestrator side of the load generator: starts scripts/bench/generator.ts in a child Bun process (so its CPU is
 * measurable apart from the servers') and sends it requests over IPC, each with a time limit.
 */
import type { Subprocess } from "bun";
import { fileURLToPath } from "node:url";
import { trackPid, untrackPid } from "./cleanup.ts";
import type { GeneratorReply, PrepareRequest, RunRequest, SliceResult } from "./protocol.ts";
import type { ServerAccess } from "./security.ts";
import type { WorkloadOptions } from "./workload.ts";

const GENERATOR_PATH = fileURLToPath(new URL("./generator.ts", import.meta.url));

/** Time limit of a workload's prepare step, in ms. */
const PREPARE_TIMEOUT_MS = 180_000;

/** Extra time allowed beyond a slice's own limit before the generator is declared stuck, in ms. */
const SLICE_GRACE_MS = 15_000;

/** A running load-generator process. */
export class GeneratorHandle {
  private readonly process: Subprocess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: GeneratorReply) => void; reject: (e: Error) => void }>();

  private constructor() {
    this.process = Bun.spawn([process.execPath, GENERATOR_PATH], {
      stdio: ["ignore", "inherit", "inherit"],
      serialization: "json",
      ipc: (message: GeneratorReply) => {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        waiter?.resolve(message);
      },
    });
    trackPid(this.process.pid);
    void this.process.exited.then((code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load generator exited with code ${code}`));
      this.pending.clear();
    });
  }

  /** Starts a generator process. */
  static start(): GeneratorHandle {
    return new GeneratorHandle();
  }

  /** PID of the generator process (for /proc CPU readings). */
  get pid(): number {
    return this.process.pid;
  }

  /** Sends a request and waits at most `timeoutMs` for its reply; throws Error on failure or timeout. */
  private call(request: { kind: string } & Record<string, unknown>, timeoutMs: number): Promise<GeneratorReply> {
    const id = this.nextId++;
    return new Promise<GeneratorReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load generator did not answer ${request.kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          if (reply.error !== undefined) reject(new Error(reply.error));
          else resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.process.send({ ...request, id });
    });
  }

  /**
   * Runs the workload's prepare step against `endpoint` (reached with `access`; time limit 180 s, since delete mode
   * writes `--delete-keys`, 100,000 by default, first).
   */
  async prepare(endpoint: string, options: WorkloadOptions, access?: ServerAccess): Promise<void> {
    const request: Omit<PrepareRequest, "id"> = { kind: "prepare", endpoint, options, ...(access ? { access } : {}) };
    await this.call(request, PREPARE_TIMEOUT_MS);
  }

  /** Runs one slice (see RunRequest); resolves with its result, throws if the generator fails or hangs. */
  async run(slice: Omit<RunRequest, "id" | "kind">): Promise<SliceResult> {
    const reply = await this.call({ kind: "run", ...slice }, slice.maxMs + SLICE_GRACE_MS);
    return reply.result!;
  }

  /** Asks the generator to close its connections and exit; kills it by PID if it has not exited within 3 s. */
  async stop(): Promise<void> {
    await this.call({ kind: "exit" }, 3_000).catch(() => undefined);
    const exited = await Promise.race([this.process.exited.then(() => true), Bun.sleep(3_000).then(() => false)]);
    if (!exited) this.process.kill("SIGKILL");
    untrackPid(this.process.pid);
  }
}
