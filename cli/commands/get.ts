/**
 * `etcdctl get [options] <key> [range_end]`, as etcdctl 3.4's `get_command.go` (with 3.5's
 * `--count-only`, which like in 3.5 requires `-w fields`).
 */
import { badArgs } from "../errors.ts";
import { SimplePrinter } from "../print/simple.ts";
import { GET_FLAGS, rangeRequest } from "./kv-requests.ts";
import type { CommandSpec } from "./types.ts";

/** The get command. */
export const getCommand: CommandSpec = {
  path: ["get"],
  usage: "[options] <key> [range_end]",
  description: "Gets the key or a range of keys",
  flags: GET_FLAGS,
  async run(ctx) {
    const request = rangeRequest(ctx.args, ctx.flags);
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.kv.range(request, o), { repeatable: true });
    if (ctx.flags.bool("count-only") && printer.format !== "fields") {
      throw badArgs("--count-only is only for `--write-out=fields`");
    }
    if (ctx.flags.bool("print-value-only")) {
      if (!(printer instanceof SimplePrinter)) throw badArgs("print-value-only is only for `--write-out=simple`");
      printer.valueOnly = true;
    }
    printer.get(resp);
  },
};
