/**
 * etcdctl exit codes and the error type every command layer throws.
 *
 * Mirrors etcdctl v3.4 `ctlv3/command/error.go`: errors are printed as `Error: <message>` on
 * stderr and the process exits with the code below. main.ts is the only place that prints them.
 */

/** Exit codes of etcdctl v3.4 (`ctlv3/command/error.go`); `Panic` is what a Go runtime panic exits with. */
export const ExitCode = {
  Success: 0,
  Error: 1,
  BadConnection: 2,
  InvalidInput: 3,
  BadFeature: 4,
  Interrupted: 5,
  IO: 6,
  Panic: 2,
  BadArgs: 128,
} as const;

/**
 * A failure that ends the command: `message` goes to stderr as `Error: <message>` (or verbatim when
 * `verbatim` is set, e.g. Go panics and capnslog fatal lines), then the process exits `exitCode`.
 */
export class CtlError extends Error {
  /**
   * @param exitCode process exit code (one of {@link ExitCode})
   * @param message text after `Error: `, exactly as etcdctl words it
   * @param verbatim print `message` as-is instead of prefixing `Error: `
   */
  constructor(
    readonly exitCode: number,
    message: string,
    readonly verbatim = false,
  ) {
    super(message);
    this.name = "CtlError";
  }
}

/**
 * What a Go panic looks like to a caller: `panic: <value>` on stderr and exit code 2.
 * etcdctl 3.4 panics on some txn input (unknown compare operator, lease compares); we mirror it.
 */
export function goPanic(value: string): CtlError {
  return new CtlError(ExitCode.Panic, `panic: ${value}`, true);
}

/** Same as etcdctl's `ExitWithError(code, err)` call sites that exit 128 for bad arguments. */
export function badArgs(message: string): CtlError {
  return new CtlError(ExitCode.BadArgs, message);
}

/**
 * A cobra flag-parsing failure (`unknown flag: --x`, `flag needs an argument: --x`,
 * `invalid argument ...`): cobra prints `Error: <msg>` and a blank line, then etcdctl's main
 * prints `Error: <msg>` again; exit 1.
 */
export function flagError(message: string): CtlError {
  return new CtlError(ExitCode.Error, `Error: ${message}\n\nError: ${message}`, true);
}
