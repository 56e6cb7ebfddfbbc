/**
 * Member-fatal errors: etcd's `lg.Fatal` (etcdserver/raft.go "failed to save Raft hard state and
 * entries", server.go apply panics). When the member's durable state and its in-memory state may
 * have parted (a failed SQLite write rolled back the disk but not the MVCC index, the watch
 * events or the waiting callers), the only safe answer is to stop the process: on restart the
 * member rebuilds everything from disk, where every acknowledged write is (answers are sent only
 * after their transaction committed).
 *
 * Per-request errors (a ConnectError for one client) are never fatal; they stay with their request.
 */
import type { LogFields } from "../log.ts";

/**
 * What a member calls when it cannot go on: log `msg` and `fields` as one `"level":"fatal"` line
 * and end the process with exit code 1. Production never returns; tests inject one that records
 * the call and returns, after which the member has stopped itself (serves nothing, answers
 * nothing further).
 */
export type OnFatal = (msg: string, fields: LogFields) => void;

/** A logger able to write a fatal line (server/log.ts `Logger`). */
export interface FatalLogger {
  fatal(msg: string, fields?: LogFields): void;
}

/** Exit code of a member that stopped on a fatal error (zap's Fatal: os.Exit(1)). */
export const FATAL_EXIT_CODE = 1;

/**
 * An error that must end the member (thrown where a caller cannot stop the process itself; the
 * `uncaughtException` handler in server/main.ts exits on it, see {@link isMemberFatal}).
 */
export class MemberFatalError extends Error {
  constructor(
    message: string,
    readonly fields: LogFields = {},
  ) {
    super(message);
    this.name = "MemberFatalError";
  }
}

/**
 * True for errors after which the member must not keep serving: {@link MemberFatalError} and
 * storage errors of bun:sqlite (`SQLiteError`: I/O, disk full, read-only database, corruption).
 */
export function isMemberFatal(error: unknown): boolean {
  return error instanceof MemberFatalError || (error instanceof Error && error.name === "SQLiteError");
}

/**
 * Logs `msg` at level fatal (with `fields`) and exits the process with {@link FATAL_EXIT_CODE}.
 * `exit` is replaceable for tests of this function only.
 */
export function fatal(
  log: FatalLogger,
  msg: string,
  fields: LogFields = {},
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  log.fatal(msg, fields);
  exit(FATAL_EXIT_CODE);
}

/** The production {@link OnFatal}: {@link fatal} on `log`. */
export function exitOnFatal(log: FatalLogger): OnFatal {
  return (msg, fields) => fatal(log, msg, fields);
}

/** Log fields describing `error`: its message, and its stack (`stack`) when it has one. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.message, stack: error.stack };
  return { error: String(error) };
}
