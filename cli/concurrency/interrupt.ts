/**
 * SIGINT and SIGTERM as etcdctl's lock and elect catch them (signal.Notify): the first one aborts
 * the returned signal instead of killing the process, so the command can unlock or resign first.
 * node:process works the same under Bun and Deno.
 */
import process from "node:process";

/** An abort signal raised by the first SIGINT or SIGTERM; `release()` restores the default handling. */
export function interruptSignal(): { signal: AbortSignal; release(): void } {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    signal: ac.signal,
    release() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
