/**
 * `etcdctl txn [-i]` (etcdctl 3.4 `txn_command.go`): reads compares and success/failure operations
 * from stdin (see `txn-parser.ts`), prints `SUCCESS`/`FAILURE` and each operation's response.
 * Like etcdctl, the Txn call has no deadline (`context.Background()`).
 */
import { badArgs } from "../errors.ts";
import { readTxn } from "../txn-parser.ts";
import type { CommandSpec } from "./types.ts";

/** The txn command. */
export const txnCommand: CommandSpec = {
  path: ["txn"],
  usage: "[options]",
  description: "Txn processes all the requests in one transaction",
  flags: [{ name: "interactive", short: "i", type: "bool", default: false, description: "Input transaction in interactive mode" }],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("txn command does not accept argument");
    const { client, printer } = await ctx.connect();
    const request = await readTxn(ctx.stdin, ctx.out, ctx.flags.bool("interactive"));
    const resp = await client.call((s, o) => s.kv.txn(request, o), { timeoutMs: null });
    printer.txn(resp);
  },
};
