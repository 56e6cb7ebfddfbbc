/**
 * What a v2 command runs with, and etcdctl v2's ways of ending: `handleError` (`Error:  <err>`,
 * plus the per-endpoint detail of a cluster error) and `os.Exit` after a message
 * (`ctlv2/command/error.go`, `util.go`).
 */
import type { Output } from "../output.ts";
import type { Stdin } from "../stdin.ts";
import { ClusterError } from "./client.ts";
import type { V2FlagValues } from "./flags.ts";

/** etcdctl v2 exit codes (`ctlv2/command/error.go`). */
export const V2Exit = {
  Success: 0,
  BadArgs: 1,
  BadConnection: 2,
  BadAuth: 3,
  ServerError: 4,
  ClusterNotHealthy: 5,
} as const;

/** Ends the command with `code` after what was already printed (Go's `os.Exit`). */
export class V2ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Arguments, flags and streams of one v2 command. */
export interface V2Context {
  /** Positional arguments after the command's flags. */
  args: string[];
  /** The command's own flags. */
  flags: V2FlagValues;
  /** The global flags (`c.GlobalString(...)`). */
  global: V2FlagValues;
  env: Record<string, string | undefined>;
  out: Output;
  stdin: Stdin;
}

/** etcdctl v2's handleError: prints `Error:  <err>` (and a cluster error's detail), exits `code`. */
export function handleError(ctx: V2Context, code: number, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  ctx.out.eprintln("Error:  ", message);
  if (err instanceof ClusterError) ctx.out.eprintln(err.detail());
  throw new V2ExitError(code);
}

/** Prints `line` on stderr and exits `code` (Go's `fmt.Fprintln(os.Stderr, ...); os.Exit(code)`). */
export function exitWith(ctx: V2Context, code: number, line: string): never {
  ctx.out.eprintln(line);
  throw new V2ExitError(code);
}

/** etcdctl's `contextWithTotalTimeout`: the absolute deadline of `--total-timeout` (ms since epoch). */
export function totalDeadline(ctx: V2Context): number {
  return Date.now() + ctx.global.durationMs("total-timeout");
}
