/**
 * etcdctl v2's `watch` and `exec-watch` (`ctlv2/command/watch_command.go`,
 * `exec_watch_command.go`): long-poll watches on `/v2/keys/<key>?wait=true`; directory events
 * are skipped; Ctrl-C exits 0. `exec-watch` runs the command once per event with
 * `ETCD_WATCH_ACTION`, `ETCD_WATCH_MODIFIED_INDEX`, `ETCD_WATCH_KEY`, `ETCD_WATCH_VALUE` set.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { mustClient } from "../connect.ts";
import { handleError, V2Exit, type V2Context } from "../context.ts";
import { printResponseKey } from "../format.ts";
import { V2Watcher, type V2Response } from "../keys.ts";
import type { V2Command } from "./types.ts";

/** Go's `signal.Notify(os.Interrupt)` handler of both commands: exit 0. */
function exitOnInterrupt(ctx: V2Context): void {
  process.once("SIGINT", () => {
    void ctx.out.flush().then(() => process.exit(0));
  });
}

async function next(ctx: V2Context, w: V2Watcher): Promise<V2Response> {
  try {
    return await w.next();
  } catch (e) {
    handleError(ctx, V2Exit.ServerError, e);
  }
}

const AFTER_INDEX = { names: ["after-index"], type: "int" as const, value: 0, usage: "watch after the given index" };

export const WATCH_COMMANDS: V2Command[] = [
  {
    name: "watch",
    usage: "watch a key for changes",
    argsUsage: "<key>",
    flags: [
      { names: ["forever", "f"], type: "bool", usage: "forever watch a key until CTRL+C" },
      AFTER_INDEX,
      { names: ["recursive", "r"], type: "bool", usage: "returns all values for key and child keys" },
    ],
    async action(ctx) {
      const client = await mustClient(ctx);
      if (ctx.args.length === 0) handleError(ctx, V2Exit.BadArgs, "key required");
      const recursive = ctx.flags.bool("recursive");
      const w = new V2Watcher(client, ctx.args[0]!, ctx.flags.int("after-index"), recursive);
      exitOnInterrupt(ctx);
      for (;;) {
        const r = await next(ctx, w);
        if (r.node?.dir) continue;
        if (recursive) ctx.out.println(`[${r.action}] ${r.node!.key}`);
        printResponseKey(ctx.out, r, ctx.global.string("output"));
        await ctx.out.flush();
        if (!ctx.flags.bool("forever")) return;
      }
    },
  },
  {
    name: "exec-watch",
    usage: "watch a key for changes and exec an executable",
    argsUsage: "<key> <command> [args...]",
    flags: [AFTER_INDEX, { names: ["recursive", "r"], type: "bool", usage: "watch all values for key and child keys" }],
    async action(ctx) {
      const client = await mustClient(ctx);
      const args = ctx.args;
      if (args.length < 2) handleError(ctx, V2Exit.BadArgs, "key and command to exec required");
      // etcdctl's own quirk: without a `--` after the key (urfave drops a leading one), the key is
      // taken from the end of the arguments.
      const sep = args.findIndex((a, i) => a === "--" && i !== 0) > 0;
      const key = sep ? args[0]! : args[args.length - 1]!;
      const cmd = sep ? args.slice(2) : args.slice(0, -1);
      const w = new V2Watcher(client, key, ctx.flags.int("after-index"), ctx.flags.bool("recursive"));
      exitOnInterrupt(ctx);
      for (;;) {
        const r = await next(ctx, w);
        const node = r.node!;
        if (node.dir) {
          ctx.out.eprintln(`Ignored dir ${node.key} change`);
          continue;
        }
        await ctx.out.flush();
        const env = {
          ...process.env,
          ETCD_WATCH_ACTION: r.action,
          ETCD_WATCH_MODIFIED_INDEX: String(node.modifiedIndex),
          ETCD_WATCH_KEY: node.key,
          ETCD_WATCH_VALUE: node.value,
        };
        const child = spawn(cmd[0]!, cmd.slice(1), { env, stdio: ["ignore", "inherit", "inherit"] });
        child.once("error", (e: NodeJS.ErrnoException) => {
          const text = e.code === "ENOENT" ? `exec: "${cmd[0]}": executable file not found in $PATH` : e.message;
          process.stderr.write(text, () => process.exit(1));
        });
      }
    },
  },
];
