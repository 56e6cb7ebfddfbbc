/**
 * `etcdctl watch [options] [key or prefix] [range_end]`, as etcdctl 3.4's `watch_command.go`
 * (plus 3.5's `--progress-notify`): prints each response as it comes (`-w simple`: the event
 * type, then the previous pair with `--prev-kv`, then the key and value), `progress notify: <rev>`
 * for progress notices and `watch was canceled (<reason>)` on stderr when the server cancels a
 * watcher; when no watcher is left it fails with `watch is canceled by the server` (exit 5).
 * `ETCDCTL_WATCH_KEY` / `ETCDCTL_WATCH_RANGE_END` give the key and range end.
 *
 * `-i` (interactive) reads commands from stdin, one per line: `watch [options] <key> [range_end]`
 * adds a watcher to the same stream, `progress` requests a progress notice for all of them, and
 * (an addition to etcdctl's set) `cancel <n>` cancels the n-th watcher of the session (0 = the
 * first). End of input ends etcdctl with `Error reading watch request line: EOF` (exit 3).
 *
 * `watch [options] <key> [range_end] -- <command> [args...]` (also on an interactive `watch` line)
 * runs the command after printing each response, once per event, with the event in its
 * environment (`watch-exec.ts`); a command that fails ends etcdctl (exit 1).
 */
import process from "node:process";
import type { WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import { FlagSet, type FlagSpec } from "../flags.ts";
import type { Printer } from "../print/printer.ts";
import { argify } from "../txn-parser.ts";
import { prefixEnd } from "./kv-requests.ts";
import type { CommandContext, CommandSpec } from "./types.ts";
import { execPerEvent, parseInteractiveWatchArgs, parseWatchArgs } from "./watch-exec.ts";
import { type WatchHandle, WatchSession, type WatchTarget } from "./watch-session.ts";

/** Flags of `watch` (etcdctl 3.4's, and 3.5's `--progress-notify`). */
export const WATCH_FLAGS: FlagSpec[] = [
  { name: "interactive", short: "i", type: "bool", default: false, description: "Interactive mode" },
  { name: "prefix", type: "bool", default: false, description: "Watch on a prefix if prefix is set" },
  { name: "rev", type: "int64", default: 0n, description: "Revision to start watching" },
  { name: "prev-kv", type: "bool", default: false, description: "get the previous key-value pair before the event happens" },
  { name: "progress-notify", type: "bool", default: false, description: "get periodic watch progress notification from server" },
];

const ZERO = Uint8Array.of(0);
const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * The watch target of positional `args` and `flags` (etcdctl's getWatchChan).
 * @throws CtlError exit 128 for a missing key or `range_end` together with `--prefix`
 */
export function watchTarget(args: string[], flags: FlagSet): WatchTarget {
  if (args.length < 1) throw badArgs("bad number of arguments");
  let key = utf8(args[0]!);
  let rangeEnd: Uint8Array = new Uint8Array(0);
  const prefix = flags.bool("prefix");
  if (args.length === 2) {
    if (prefix) throw badArgs("`range_end` and `--prefix` are mutually exclusive");
    rangeEnd = utf8(args[1]!);
  }
  if (prefix) {
    if (key.length === 0) [key, rangeEnd] = [ZERO, ZERO];
    else rangeEnd = prefixEnd(key);
  }
  return { key, rangeEnd, rev: flags.int64("rev"), prevKv: flags.bool("prev-kv"), progressNotify: flags.bool("progress-notify") };
}

/** clientv3's WatchResponse.Err() text for a canceled response. */
function cancelText(r: WatchResponse): string {
  if (r.compactRevision !== 0n) return "etcdserver: mvcc: required revision has been compacted";
  if (r.cancelReason !== "") return r.cancelReason;
  return "etcdserver: mvcc: required revision is a future revision";
}

/** clientv3's IsProgressNotify. */
function isProgressNotify(r: WatchResponse): boolean {
  return r.events.length === 0 && !r.canceled && !r.created && r.compactRevision === 0n && (r.header?.revision ?? 0n) !== 0n;
}

/** Prints one response as etcdctl's printWatchCh does, and flushes it out at once. */
function printResponse(ctx: CommandContext, printer: Printer, r: WatchResponse): void {
  if (r.canceled) ctx.out.eprintln(`watch was canceled (${cancelText(r)})`);
  if (isProgressNotify(r)) ctx.out.println(`progress notify: ${r.header!.revision}`);
  printer.watch(r);
  void ctx.out.flush();
}

/** ETCDCTL_WATCH_KEY / ETCDCTL_WATCH_RANGE_END ("" when unset). */
function envArgs(): { key: string; end: string } {
  const env = process.env;
  const key = env.ETCDCTL_WATCH_KEY ?? "";
  const end = env.ETCDCTL_WATCH_RANGE_END ?? "";
  if (key === "" && end !== "") throw badArgs(`ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${JSON.stringify(end)}`);
  return { key, end };
}

/**
 * Hands each watcher's responses on in order, as etcdctl's printWatchCh goroutine per watcher:
 * print, then (with a command) run it per event before the next response of that watcher.
 */
class ResponseHandler {
  private readonly chains = new Map<WatchHandle, Promise<void>>();
  private readonly execs = new Map<WatchHandle, string[]>();
  private fail: (e: unknown) => void = () => {};
  /** Rejects with the first command failure (CtlError exit 1). */
  readonly failed = new Promise<never>((_, reject) => (this.fail = reject));

  constructor(
    private readonly ctx: CommandContext,
    private readonly printer: Printer,
  ) {}

  /** Runs `execArgs` for every event of `h` from now on. */
  exec(h: WatchHandle, execArgs: string[]): void {
    if (execArgs.length > 0) this.execs.set(h, execArgs);
  }

  response(h: WatchHandle, r: WatchResponse): void {
    const execArgs = this.execs.get(h);
    if (!execArgs) {
      printResponse(this.ctx, this.printer, r);
      return;
    }
    const next = (this.chains.get(h) ?? Promise.resolve()).then(async () => {
      printResponse(this.ctx, this.printer, r);
      await this.ctx.out.flush();
      await execPerEvent(execArgs, r);
    });
    next.catch((e) => this.fail(e));
    this.chains.set(h, next.catch(() => {}));
  }

  /** Resolves when every response so far is handled. */
  async drained(): Promise<void> {
    await Promise.all(this.chains.values());
  }
}

/** A session whose reconnects go round the endpoints. */
async function newSession(ctx: CommandContext): Promise<{ session: WatchSession; handler: ResponseHandler }> {
  const { client, printer, global } = await ctx.connect();
  const endpoints = global.endpoints;
  const handler = new ResponseHandler(ctx, printer);
  const session = new WatchSession(
    async (attempt) => {
      // A reopened stream authenticates again, as clientv3's stream interceptor does.
      if (attempt > 0) await client.refreshToken();
      return client.call(async (s) => s, { endpoint: endpoints[attempt % endpoints.length], timeoutMs: null });
    },
    { response: (h, r) => handler.response(h, r), closed: () => {} },
  );
  return { session, handler };
}

/**
 * Parses the words of an interactive `watch ...` line after `watch` (pflag syntax for the watch
 * flags; after `--` every word is positional).
 * @throws CtlError exit 128 `unknown flag: --x`, `flag needs an argument: --x`
 */
export function parseWatchLine(words: string[]): { args: string[]; flags: FlagSet } {
  const flags = new FlagSet(WATCH_FLAGS.filter((f) => f.name !== "interactive"));
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      args.push(...words.slice(i + 1));
      break;
    }
    if (!w.startsWith("--")) {
      args.push(w);
      continue;
    }
    const eq = w.indexOf("=");
    const name = eq < 0 ? w.slice(2) : w.slice(2, eq);
    const spec = flags.spec(name);
    if (!spec) throw badArgs(`unknown flag: --${name}`);
    if (eq >= 0) flags.setFromText(name, w.slice(eq + 1));
    else if (spec.type === "bool") flags.setFromText(name, "true");
    else if (i + 1 < words.length) flags.setFromText(name, words[++i]!);
    else throw badArgs(`flag needs an argument: --${name}`);
  }
  return { args, flags };
}

/** `watch -i`: commands from stdin until end of input. */
async function interactive(ctx: CommandContext): Promise<never> {
  const env = envArgs();
  const { session, handler } = await newSession(ctx);
  let running: Promise<void> | undefined;
  for (;;) {
    const raw = await Promise.race([ctx.stdin.readLine(), handler.failed]);
    if (raw === null) {
      session.stop();
      throw new CtlError(ExitCode.InvalidInput, "Error reading watch request line: EOF");
    }
    const line = raw.endsWith("\n") ? raw.slice(0, -1) : raw;
    const words = argify(line);
    if (words.length < 1) {
      ctx.out.eprintln(`Invalid command: ${line} (watch and progress supported)`);
      continue;
    }
    if (words[0] === "watch") {
      if (words.length < 2 && env.key === "") {
        ctx.out.eprintln(`Invalid command ${line} (command type or key is not provided)`);
        continue;
      }
      const { args, flags } = parseWatchLine(words.slice(1));
      const { watchArgs, execArgs } = parseInteractiveWatchArgs(words.slice(1), args, env.key, env.end);
      let target: WatchTarget;
      try {
        target = watchTarget(watchArgs, flags);
      } catch (e) {
        if (!(e instanceof CtlError)) throw e;
        ctx.out.eprintln(`Invalid command ${line} (${e.message})`);
        continue;
      }
      handler.exec(session.watch(target), execArgs);
      running ??= session.run(false);
    } else if (words[0] === "progress") {
      session.requestProgress();
    } else if (words[0] === "cancel" && words.length === 2 && /^\d+$/.test(words[1]!)) {
      if (!session.cancel(Number(words[1]))) ctx.out.eprintln(`Invalid command ${line} (no such watch)`);
    } else {
      ctx.out.eprintln(`Invalid command ${line} (only support watch)`);
    }
    await ctx.out.flush();
  }
}

/** The watch command. */
export const watchCommand: CommandSpec = {
  path: ["watch"],
  usage: "[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
  description: "Watches events stream on keys or prefixes",
  flags: WATCH_FLAGS,
  async run(ctx) {
    if (ctx.flags.bool("interactive")) return interactive(ctx);
    const env = envArgs();
    const { watchArgs, execArgs } = parseWatchArgs(ctx.rawArgs, ctx.args, env.key, env.end);
    const target = watchTarget(watchArgs, ctx.flags);
    const { session, handler } = await newSession(ctx);
    handler.exec(session.watch(target), execArgs);
    try {
      await Promise.race([session.run(true).then(() => handler.drained()), handler.failed]);
    } finally {
      session.stop();
    }
    await ctx.out.flush();
    throw new CtlError(ExitCode.Interrupted, "watch is canceled by the server");
  },
};
