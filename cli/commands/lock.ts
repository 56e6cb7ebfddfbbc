/**
 * `etcdctl lock <lockname> [exec-command arg1 arg2 ...] [--ttl 10]` as etcdctl 3.4's
 * lock_command.go: a session lease of `--ttl` seconds kept alive, clientv3/concurrency's Mutex on
 * the KV API (key `<lockname>/<lease hex>`, server/concurrency/mutex.ts). Without a command it
 * prints the lock key as `get` would and holds the lock until SIGINT/SIGTERM (then unlocks, exit
 * 0) or until the session's lease is lost (`Error: session expired`, exit 1). With a command it
 * runs it with `ETCD_LOCK_KEY` and `ETCD_LOCK_REV` added to the environment, unlocks, and fails
 * like Go's exec (`Error: exit status 3`) when the command does.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { lock, unlock } from "../../server/concurrency/mutex.ts";
import { CliSession } from "../concurrency/session.ts";
import { ctlError } from "../concurrency/errors.ts";
import { GrpcKvClient } from "../concurrency/grpc-kv-client.ts";
import { aborted, interruptSignal } from "../concurrency/interrupt.ts";
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import type { CommandSpec } from "./types.ts";

/** etcdctl's default `--ttl`, seconds. */
const DEFAULT_LOCK_TTL_S = 10n;

/**
 * Runs `argv` with the lock variables in its environment and stdio inherited, as Go's
 * exec.Command(...).Run(). Resolves with Go's error text for a failure, undefined for exit 0.
 */
function runLocked(argv: string[], env: Record<string, string>): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit", env: { ...env, ...process.env } });
    child.once("error", (e: NodeJS.ErrnoException) =>
      resolve(e.code === "ENOENT" ? `exec: ${JSON.stringify(argv[0])}: executable file not found in $PATH` : e.message),
    );
    child.once("exit", (code, signal) => {
      if (signal) resolve(`signal: ${signalName(signal)}`);
      else resolve(code === 0 ? undefined : `exit status ${code}`);
    });
  });
}

/** Go's os.Signal String() for the usual signals. */
function signalName(signal: string): string {
  const names: Record<string, string> = { SIGKILL: "killed", SIGTERM: "terminated", SIGINT: "interrupt", SIGHUP: "hangup" };
  return names[signal] ?? signal.toLowerCase().replace(/^sig/, "");
}

/** `lock <lockname> [exec-command ...]`. */
export const lockCommand: CommandSpec = {
  path: ["lock"],
  usage: "<lockname> [exec-command arg1 arg2 ...]",
  description: "Acquires a named lock",
  flags: [{ name: "ttl", type: "int64", default: DEFAULT_LOCK_TTL_S, description: "timeout for session" }],
  async run(ctx) {
    if (ctx.args.length === 0) throw badArgs("lock takes a lock name argument and an optional command to execute");
    const { client, printer } = await ctx.connect();
    const kv = new GrpcKvClient(client);
    // As etcdctl, signals are caught only once the session exists: until then SIGINT just ends it.
    const session = await CliSession.open(client, Number(ctx.flags.int64("ttl")));
    const interrupt = interruptSignal();
    try {
      const name = new TextEncoder().encode(ctx.args[0]!);
      let held;
      try {
        held = await lock(kv, name, session.lease, interrupt.signal);
      } catch (e) {
        throw ctlError(e);
      }
      const command = ctx.args.slice(1);
      if (command.length > 0) {
        await ctx.out.flush();
        const failure = await runLocked(command, {
          ETCD_LOCK_KEY: new TextDecoder().decode(held.key),
          ETCD_LOCK_REV: String(held.header.revision),
        });
        await unlock(kv, held.key);
        if (failure !== undefined) throw new CtlError(ExitCode.Error, failure);
        return;
      }
      const got = await client.call((s, o) => s.kv.range({ key: held.key }, o), { timeoutMs: null });
      if (got.kvs.length === 0) throw new CtlError(ExitCode.Error, "lock lost on init");
      printer.get(got);
      await ctx.out.flush();
      const outcome = await Promise.race([aborted(interrupt.signal).then(() => "interrupted"), session.done.then(() => "expired")]);
      if (outcome === "interrupted") {
        await session.orphan();
        await unlock(kv, held.key);
        return;
      }
      throw new CtlError(ExitCode.Error, "session expired");
    } finally {
      interrupt.release();
    }
  },
};
