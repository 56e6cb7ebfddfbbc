/**
 * `etcdctl member <subcommand>` (etcdctl 3.4 `member_command.go`). Only `list` so far; add, remove,
 * update and promote go here as further CommandSpecs with path `["member", ...]`.
 */
import type { CommandSpec } from "./types.ts";

/** `member list`: ID, status, name, peer and client URLs, learner flag of every member. */
export const memberListCommand: CommandSpec = {
  path: ["member", "list"],
  usage: "",
  description: "Lists all members in the cluster",
  groupDescription: "Membership related commands",
  flags: [],
  async run(ctx) {
    const { client, printer } = ctx.connect();
    const resp = await client.call((s, o) => s.cluster.memberList({}, o), { repeatable: true });
    printer.memberList(resp);
  },
};
