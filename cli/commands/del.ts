/**
 * `etcdctl del [options] <key> [range_end]`, as etcdctl 3.4's `del_command.go`: prints the number
 * of deleted keys (and the deleted pairs with `--prev-kv`).
 */
import { DEL_FLAGS, deleteRequest } from "./kv-requests.ts";
import type { CommandSpec } from "./types.ts";

/** The del command. */
export const delCommand: CommandSpec = {
  path: ["del"],
  usage: "[options] <key> [range_end]",
  description: "Removes the specified key or range of keys [key, range_end)",
  flags: DEL_FLAGS,
  async run(ctx) {
    const request = deleteRequest(ctx.args, ctx.flags);
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.kv.deleteRange(request, o));
    printer.del(resp);
  },
};
