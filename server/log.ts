/**
 * Structured logging in the shape of etcd's zap JSON logger (etcd v3.4 `--logger=zap`):
 * one JSON object per line on stderr,
 * `{"level":"info","ts":"2026-01-02T03:04:05.678Z","caller":"http/listener.ts:42","msg":"...",...fields}`.
 */
import type { LogLevel } from "./config.ts";

/** Extra key/values of one log line; bigints are written as decimal strings, Errors as their message. */
export type LogFields = Record<string, unknown>;

/** A levelled structured logger (zap's Logger in etcd). */
export interface Logger {
  /** The least severe level written; lines below it are dropped. */
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Writes a `"level":"fatal"` line. Unlike zap it does not exit: the caller stops the process. */
  fatal(msg: string, fields?: LogFields): void;
  /** A logger writing `fields` on every line, plus the line's own. */
  with(fields: LogFields): Logger;
}

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, panic: 4, fatal: 5 };

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Least severe level written (etcd's `--log-level`, default `info`). */
  level?: LogLevel;
  /** Where complete lines (with trailing newline) go; default: process.stderr. */
  write?: (line: string) => void;
  /** Clock for `ts`; default `() => new Date()`. */
  now?: () => Date;
}

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return v.message;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return v;
}

/** `dir/file.ts:line` of the code that called the logger (zap's short caller). */
function callerOf(stack: string | undefined): string {
  const frames = (stack ?? "").split("\n").slice(1);
  for (const frame of frames) {
    const m = /\(?([^\s()]+):(\d+):\d+\)?\s*$/.exec(frame);
    if (!m || m[1]!.endsWith("/log.ts")) continue;
    const parts = m[1]!.split("/");
    return `${parts.slice(-2).join("/")}:${m[2]}`;
  }
  return "unknown";
}

/** Creates a {@link Logger} writing zap-style JSON lines. */
export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const level = opts.level ?? "info";
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? (() => new Date());
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (SEVERITY[lvl] < SEVERITY[level]) return;
    const head = { level: lvl, ts: now().toISOString(), caller: callerOf(new Error().stack), msg };
    write(`${JSON.stringify({ ...head, ...base, ...fields }, jsonValue)}\n`);
  };
  return {
    level,
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    fatal: (msg, fields) => emit("fatal", msg, fields),
    with: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}
