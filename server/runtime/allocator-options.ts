/**
 * Allocator options of the `etcd` binary, set by re-executing it once at start.
 *
 * Bun allocates with mimalloc, which reads its options from `MIMALLOC_*` variables when the process
 * starts, before any JavaScript runs; so the compiled binary, started without them, replaces itself
 * (execve: same PID, arguments, descriptors and environment plus these variables) before it loads
 * the member. A variable the user set is left as it is, and then nothing is re-executed.
 *
 * `MIMALLOC_PURGE_DELAY=10000` (ms): mimalloc hands freed pages back to the OS only after they
 * stayed unused for 10 s. With its default, under a write load the same pages go back and are
 * faulted in again moments later, with TLB shootdowns across the runtime's threads: page faults
 * and `smp_call_function_many_cond` took about a tenth of a 1 KiB put load's `perf` samples.
 * Measured on the release binary against the same binary without it (README "Memory"): server CPU
 * per put 0.75-0.81x at 1 KiB values (never purging, -1: 0.71-0.83x, and 0.83x at 256 B), peak
 * RSS +5%, idle RSS unchanged; memory freed after a burst goes back 10 s later instead of at once.
 */

/** The variables the binary runs with (name → value). */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "10000" };

/** Where Bun puts the entry of a `bun build --compile` binary: argv[1] starts with it there. */
const COMPILED_ENTRY_PREFIX = "/$bunfs/";

/** The little of `process` the re-exec reads, injectable for tests. */
export interface ProcessImage {
  argv: string[];
  argv0: string;
  execPath: string;
  env: Record<string, string | undefined>;
  /** Absent on runtimes without it (then nothing is re-executed). */
  execve?: (file: string, args: string[], env: Record<string, string | undefined>) => void;
}

/**
 * Re-executes the compiled binary with ALLOCATOR_ENV added when a variable of it is missing; does
 * nothing when run from source (`bun server/main.ts`: Bun itself is the executable then) or when
 * every variable is already set. On success execve does not return; if it throws (an exotic
 * platform), the member starts with the allocator's defaults.
 */
export function reexecWithAllocatorOptions(proc: ProcessImage): void {
  if (!proc.argv[1]?.startsWith(COMPILED_ENTRY_PREFIX)) return;
  const missing = Object.keys(ALLOCATOR_ENV).filter((name) => proc.env[name] === undefined);
  if (missing.length === 0 || !proc.execve) return;
  try {
    proc.execve(proc.execPath, [proc.argv0, ...proc.argv.slice(2)], { ...proc.env, ...ALLOCATOR_ENV });
  } catch {
    // Keep the defaults: the options only change speed and memory, never behaviour.
  }
}
