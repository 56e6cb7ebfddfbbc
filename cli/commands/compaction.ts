/**
 * `etcdctl compaction [options] <revision>`, as etcdctl 3.4's `compaction_command.go`:
 * prints `compacted revision <rev>`.
 */
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import { goParseInt, GoSyntaxError } from "../go/strconv.ts";
import type { CommandSpec } from "./types.ts";

/** The compaction command. */
export const compactionCommand: CommandSpec = {
  path: ["compaction"],
  usage: "[options] <revision>",
  description: "Compacts the event history in etcd",
  flags: [
    {
      name: "physical",
      type: "bool",
      default: false,
      description: "'true' to wait for compaction to physically remove all old revisions",
    },
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("compaction command needs 1 argument");
    let revision: bigint;
    try {
      revision = goParseInt(ctx.args[0]!, 10);
    } catch (e) {
      if (!(e instanceof GoSyntaxError)) throw e;
      throw new CtlError(ExitCode.Error, e.message);
    }
    const { client } = await ctx.connect();
    await client.call((s, o) => s.kv.compact({ revision, physical: ctx.flags.bool("physical") }, o));
    ctx.out.println(`compacted revision ${revision}`);
  },
};
