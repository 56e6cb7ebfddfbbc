/**
 * A long-running test process (an `etcdctl watch`, a streaming curl) whose stdout is collected as
 * it comes; its stdin stays open for interactive commands (`watch -i`). Stopped by its own PID.
 */
import type { Subprocess } from "bun";

export class Follower {
  private out = "";
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  private readonly done: Promise<void>;

  /** Starts `cmd` with `ETCDCTL_API=3` and `env` added to this process's environment. */
  constructor(cmd: string[], env: Record<string, string> = {}) {
    const proc = Bun.spawn({ cmd, env: { ...process.env, ETCDCTL_API: "3", ...env } as Record<string, string>, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    this.proc = proc;
    this.done = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) this.out += decoder.decode(chunk, { stream: true });
    })();
  }

  /** Everything the process wrote to stdout so far. */
  get stdout(): string {
    return this.out;
  }

  /** Waits until stdout contains `needle` (throws with what came after `ms` milliseconds). */
  async waitFor(needle: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.out.includes(needle)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(needle)}; stdout so far: ${JSON.stringify(this.out)}`);
      await Bun.sleep(20);
    }
  }

  /** SIGTERM by PID unless it already ended, then waits for stdout to end. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.proc.pid, "SIGTERM");
    await this.proc.exited;
    await this.done;
  }
}
