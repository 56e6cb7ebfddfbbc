/**
 * `etcdctl put [options] <key> <value>` (value from stdin when omitted), as etcdctl 3.4's
 * `put_command.go`: prints `OK` (and the previous pair with `--prev-kv`).
 */
import { PUT_FLAGS, putRequest } from "./kv-requests.ts";
import type { CommandSpec } from "./types.ts";

/** The put command. */
export const putCommand: CommandSpec = {
  path: ["put"],
  usage: "[options] <key> <value> (<value> can also be given from stdin)",
  description: "Puts the given key into the store",
  flags: PUT_FLAGS,
  async run(ctx) {
    const request = await putRequest(ctx.args, ctx.flags, () => ctx.stdin.readAll());
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.kv.put(request, o));
    printer.put(resp);
  },
};
