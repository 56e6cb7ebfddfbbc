/**
 * The A/B scheme every benchmark mode shares: after warming up, run `rounds` rounds in which each
 * server (or cluster) gets one slice, in alternating order (A B, B A, A B, ...), so that slow
 * drift of a shared, noisy machine falls on both alike. Plus the helper that runs one slice's
 * load in a fresh Bun process (its CPU is then measurable apart from the server's).
 */
import { trackPid, untrackPid } from "./cleanup.ts";

/** Calls `slice(i, round)` for every target index each round, reversing the order every other round. */
export async function alternateRounds(targets: number, rounds: number, slice: (i: number, round: number) => Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = Array.from({ length: targets }, (_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) await slice(i, round);
  }
}

/**
 * Runs `script` with `config` (JSON, as its first argument) in a fresh Bun process and parses its
 * stdout as JSON. The PID is tracked for cleanup on SIGINT. Throws with the process's stderr
 * (`<what> load process failed (exit N): ...`) when it exits non-zero.
 */
export async function runLoadProcess<R>(script: string, config: unknown, what: string): Promise<R> {
  const proc = Bun.spawn([process.execPath, script, JSON.stringify(config)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  trackPid(proc.pid);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  untrackPid(proc.pid);
  if (code !== 0) throw new Error(`${what} load process failed (exit ${code}): ${err.trim()}`);
  return JSON.parse(out) as R;
}
