/**
 * Process and temp-dir bookkeeping for the benchmark: everything it starts is registered here and torn down by PID
 * on normal exit, on errors and on SIGINT/SIGTERM/SIGHUP. Only registered PIDs are ever signalled.
 */
import { rmSync } from "node:fs";

const pids = new Set<number>();
const dirs = new Set<string>();
let installed = false;

/** Registers a child PID that must be killed if the benchmark exits before stopping it. */
export function trackPid(pid: number): void {
  pids.add(pid);
}

/** Forgets a PID once the benchmark has stopped that process itself. */
export function untrackPid(pid: number): void {
  pids.delete(pid);
}

/** Registers a temp dir to remove (recursively) at exit. */
export function trackDir(dir: string): void {
  dirs.add(dir);
}

/** Removes a registered temp dir now and forgets it. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Synchronously SIGKILLs every registered PID and removes every registered dir. Safe to call repeatedly. */
export function cleanupNow(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  pids.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/**
 * Installs exit/signal/uncaught-error handlers that call {@link cleanupNow}. On a signal the process exits with
 * 128 + signal number (130 for SIGINT).
 */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanupNow);
  const signals: Array<[NodeJS.Signals, number]> = [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]];
  for (const [signal, n] of signals) {
    process.on(signal, () => {
      process.stderr.write(`\nbenchmark: ${signal}, stopping the servers it started\n`);
      cleanupNow();
      process.exit(128 + n);
    });
  }
  process.on("uncaughtException", (err) => {
    process.stderr.write(`benchmark: ${err instanceof Error ? err.stack : String(err)}\n`);
    cleanupNow();
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    process.stderr.write(`benchmark: ${err instanceof Error ? err.stack : String(err)}\n`);
    cleanupNow();
    process.exit(1);
  });
}
