/**
 * `etcdctl watch <key> [range_end] -- <command> [args...]`: the separation of watch arguments
 * from the command (etcdctl 3.4's `parseWatchArgs` in watch_command.go, including its error texts)
 * and running the command once per event with `ETCD_WATCH_REVISION`, `ETCD_WATCH_EVENT_TYPE`,
 * `ETCD_WATCH_KEY` and `ETCD_WATCH_VALUE` added to the environment (values as Go's `%d`/`%q`:
 * `ETCD_WATCH_EVENT_TYPE="PUT"`, `ETCD_WATCH_KEY="a\x01"`), stdio inherited, as `printWatchCh`.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import type { WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../proto/gen/mvccpb/kv_pb.ts";
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import { goQuote } from "../go/strconv.ts";

/** Watch arguments (key, range end) and the command to run per event (empty: none). */
export interface WatchArgs {
  watchArgs: string[];
  execArgs: string[];
}

const SEPARATOR = "--";

/** etcdctl's errBadArgsNumSeparator. */
const separatorError = () => badArgs("bad number of arguments (found separator --, but no commands)");
/** etcdctl's errBadArgsNumConflictEnv. */
const conflictError = () => badArgs("bad number of arguments (found conflicting environment key)");

/**
 * The watch and exec arguments of a command line, as etcdctl 3.4's parseWatchArgs.
 * @param rawArgs the command line as given (etcdctl's os.Args; everything up to the first `watch` is dropped)
 * @param commandArgs the positional arguments cobra/pflag found (those after `--` included)
 * @param envKey `ETCDCTL_WATCH_KEY` ("" when unset)
 * @param envRange `ETCDCTL_WATCH_RANGE_END`
 * @throws CtlError exit 128 `bad number of arguments`, `... (found separator --, but no commands)`,
 *   `... (found conflicting environment key)`
 */
export function parseWatchArgs(rawArgs: string[], commandArgs: string[], envKey: string, envRange: string): WatchArgs {
  const at = rawArgs.indexOf("watch");
  const raw = at < 0 ? rawArgs : rawArgs.slice(at + 1);
  const sep = raw.indexOf(SEPARATOR);
  if (sep >= 0 && sep === raw.length - 1) throw separatorError();
  if (sep < 0 && raw.length < 1 && envKey === "") throw badArgs("bad number of arguments");
  if (sep >= 0 && envKey !== "") {
    // "ETCDCTL_WATCH_KEY=foo watch foo -- echo 1": commandArgs has an extra word before the command.
    let r = raw.length - 1;
    for (let w = commandArgs.length - 1; w >= 0; w--) {
      if (commandArgs[w] === raw[r]) {
        r--;
        continue;
      }
      if (r === sep) throw conflictError();
    }
  }
  if (sep < 0 && commandArgs.length > 0 && envKey !== "") throw conflictError();
  return split(sep < 0 ? [] : raw.slice(sep + 1), commandArgs, envKey, envRange);
}

/**
 * The same for one interactive line `watch [options] <key> [range_end] [-- command...]`.
 * @param words the line's words after `watch`
 * @param positional the non-flag words of `words` (those after `--` included)
 * @throws CtlError exit 128 as {@link parseWatchArgs} (etcdctl exits on these in interactive mode too)
 */
export function parseInteractiveWatchArgs(words: string[], positional: string[], envKey: string, envRange: string): WatchArgs {
  const sep = words.indexOf(SEPARATOR);
  if (sep >= 0 && sep === words.length - 1) throw separatorError();
  if (sep < 0 && envKey === "" && positional.length < 1) throw badArgs("bad number of arguments");
  if (sep < 0 && positional.length > 0 && envKey !== "") throw conflictError();
  return split(sep < 0 ? [] : words.slice(sep + 1), positional, envKey, envRange);
}

/** The common end of parseWatchArgs: environment key first, the command's words cut off. */
function split(execArgs: string[], positional: string[], envKey: string, envRange: string): WatchArgs {
  let watchArgs = [...positional];
  if (envKey !== "") watchArgs = [envKey, ...(envRange !== "" ? [envRange] : []), ...watchArgs];
  if (execArgs.length === 0) return { watchArgs, execArgs };
  // etcdctl cuts at the last occurrence of the command's first word.
  return { watchArgs: watchArgs.slice(0, watchArgs.lastIndexOf(execArgs[0]!)), execArgs };
}

/** Go's error text of a failed exec.Cmd.Run(). */
function runError(argv0: string, code: number | null, signal: string | null, e?: NodeJS.ErrnoException): string {
  if (e) return e.code === "ENOENT" ? `exec: ${goQuote(argv0)}: executable file not found in $PATH` : e.message;
  if (signal) return `signal: ${SIGNAL_NAMES[signal] ?? signal.toLowerCase().replace(/^sig/, "")}`;
  return `exit status ${code}`;
}

/** Go's os.Signal String() for the usual signals. */
const SIGNAL_NAMES: Record<string, string> = { SIGKILL: "killed", SIGTERM: "terminated", SIGINT: "interrupt", SIGHUP: "hangup" };

/**
 * Runs `execArgs` once per event of `r`, one after the other, each with etcdctl's four variables
 * added to this process's environment and stdio inherited.
 * @throws CtlError exit 1, printed verbatim: `command ["cmd" "arg"] error (exit status 3)` (etcdctl's
 *   message before `os.Exit(1)`) for the first command that fails or cannot be started
 */
export async function execPerEvent(execArgs: string[], r: WatchResponse): Promise<void> {
  for (const ev of r.events) {
    const env = {
      ...process.env,
      ETCD_WATCH_REVISION: String(r.header?.revision ?? 0n),
      ETCD_WATCH_EVENT_TYPE: goQuote(Event_EventType[ev.type]),
      ETCD_WATCH_KEY: goQuote(ev.kv?.key ?? new Uint8Array(0)),
      ETCD_WATCH_VALUE: goQuote(ev.kv?.value ?? new Uint8Array(0)),
    };
    const failure = await new Promise<string | undefined>((resolve) => {
      const child = spawn(execArgs[0]!, execArgs.slice(1), { stdio: "inherit", env });
      child.once("error", (e: NodeJS.ErrnoException) => resolve(runError(execArgs[0]!, null, null, e)));
      child.once("exit", (code, signal) => resolve(code === 0 ? undefined : runError(execArgs[0]!, code, signal)));
    });
    if (failure !== undefined) {
      throw new CtlError(ExitCode.Error, `command [${execArgs.map((a) => goQuote(a)).join(" ")}] error (${failure})`, true);
    }
  }
}
