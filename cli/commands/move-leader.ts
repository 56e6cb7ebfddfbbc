/**
 * `etcdctl move-leader <transferee-member-id>` (etcdctl 3.4 `ctlv3/command/move_leader_command.go`).
 *
 * Asks each endpoint of `--endpoints` in turn for its `Maintenance.Status` until one says it is
 * the leader (its header's member ID equals the reported leader), then sends `Maintenance.MoveLeader`
 * to that endpoint. One command deadline (`--command-timeout`) covers all of these calls, so a
 * dead endpoint before the leader ends the command with `context deadline exceeded`.
 *
 * Exit codes: 128 for a missing/extra argument (`move-leader command needs 1 argument`), a bad
 * hex ID (the bare `strconv.ParseUint: parsing "zz": invalid syntax`) or no leader among the
 * endpoints (`no leader endpoint given at [ep1 ep2]`); 1 for a failed Status or MoveLeader
 * (e.g. `etcdserver: bad leader transferee` for an unknown or learner target).
 */
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import { DEADLINE_EXCEEDED } from "../client.ts";
import { hexUintArg } from "./member.ts";
import type { CommandSpec } from "./types.ts";

/** `move-leader <transferee-member-id>`. */
export const moveLeaderCommand: CommandSpec = {
  path: ["move-leader"],
  usage: "<transferee-member-id>",
  description: "Transfers leadership to another etcd cluster member.",
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("move-leader command needs 1 argument");
    const target = hexUintArg(ctx.args[0]!, (e) => e);
    const { client, printer, global } = await ctx.connect();
    const deadline = Date.now() + global.commandTimeoutMs;
    const remaining = () => {
      const ms = deadline - Date.now();
      if (ms <= 0) throw new CtlError(ExitCode.Error, DEADLINE_EXCEEDED);
      return ms;
    };
    for (const endpoint of global.endpoints) {
      const status = await client.call((s, o) => s.maintenance.status({}, o), {
        endpoint,
        timeoutMs: remaining(),
        repeatable: true,
      });
      if ((status.header?.memberId ?? 0n) !== status.leader) continue;
      const resp = await client.call((s, o) => s.maintenance.moveLeader({ targetID: target }, o), {
        endpoint,
        timeoutMs: remaining(),
        repeatable: true,
      });
      printer.moveLeader(status.leader, target, resp);
      return;
    }
    throw badArgs(`no leader endpoint given at [${global.endpoints.join(" ")}]`);
  },
};
