/**
 * etcdctl v2's `member list|add|remove|update` (`ctlv2/command/member_commands.go`) over
 * `/v2/members`. Failures print the error alone (no `Error:` prefix) and exit 1.
 */
import { checkedPeerUrls } from "../../commands/member.ts";
import { goQuote } from "../../go/strconv.ts";
import type { V2Client } from "../client.ts";
import { addMember, listMembers, memberLeader, removeMember, updateMember } from "../members.ts";
import { mustClient } from "../connect.ts";
import { exitWith, totalDeadline, type V2Context } from "../context.ts";
import type { V2Command } from "./types.ts";

/** Runs `fn`, turning any error into `<prefix><message>` on stderr and exit 1. */
async function orExit<T>(ctx: V2Context, fn: () => Promise<T>, prefix = ""): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    exitWith(ctx, 1, prefix + (e as Error).message);
  }
}

/** types.NewURLs: trimmed, checked, sorted. */
function urls(ctx: V2Context, list: string[]): string[] {
  try {
    return list.map((u) => checkedPeerUrls(u.trim())[0]!.trim()).sort();
  } catch (e) {
    exitWith(ctx, 1, (e as Error).message);
  }
}

const client = (ctx: V2Context): Promise<V2Client> => mustClient(ctx);

export const MEMBER_COMMAND: V2Command = {
  name: "member",
  usage: "member add, remove and list subcommands",
  subcommands: [
    {
      name: "list",
      usage: "enumerate existing cluster members",
      argsUsage: " ",
      async action(ctx) {
        if (ctx.args.length !== 0) exitWith(ctx, 1, "No arguments accepted");
        const c = await client(ctx);
        const deadline = totalDeadline(ctx);
        const members = await orExit(ctx, () => listMembers(c, deadline));
        const leader = await orExit(ctx, () => memberLeader(c, deadline), "Failed to get leader:  ");
        for (const m of members) {
          if (m.name === "") ctx.out.println(`${m.id}[unstarted]: peerURLs=${m.peerURLs.join(",")}`);
          else ctx.out.println(`${m.id}: name=${m.name} peerURLs=${m.peerURLs.join(",")} clientURLs=${m.clientURLs.join(",")} isLeader=${m.id === leader.id}`);
        }
      },
    },
    {
      name: "add",
      usage: "add a new member to the etcd cluster",
      argsUsage: "<name> <peerURL>",
      async action(ctx) {
        if (ctx.args.length !== 2) exitWith(ctx, 1, "Provide a name and a single member peerURL");
        const c = await client(ctx);
        const [newName, url] = ctx.args as [string, string];
        const deadline = totalDeadline(ctx);
        const peerUrls = urls(ctx, [url]);
        const m = await orExit(ctx, () => addMember(c, peerUrls, deadline));
        ctx.out.println(`Added member named ${newName} with ID ${m.id} to cluster`);
        const members = await orExit(ctx, () => listMembers(c, deadline));
        const conf = members.flatMap((mb) => mb.peerURLs.map((u) => `${mb.id === m.id ? newName : mb.name}=${u}`));
        ctx.out.print("\n");
        ctx.out.println(`ETCD_NAME=${goQuote(newName)}`);
        ctx.out.println(`ETCD_INITIAL_CLUSTER=${goQuote(conf.join(","))}`);
        ctx.out.println(`ETCD_INITIAL_CLUSTER_STATE="existing"`);
      },
    },
    {
      name: "remove",
      usage: "remove an existing member from the etcd cluster",
      argsUsage: "<memberID>",
      async action(ctx) {
        if (ctx.args.length !== 1) exitWith(ctx, 1, "Provide a single member ID");
        const id = ctx.args[0]!;
        const c = await client(ctx);
        const deadline = totalDeadline(ctx);
        const members = await orExit(ctx, () => listMembers(c, deadline), "Error while verifying ID against known members: ");
        let found = false;
        for (const m of members) {
          if (m.id === id) found = true;
          if (m.name === id) {
            ctx.out.eprintln(`Found a member named ${m.name}; if this is correct, please use its ID, eg:\n\tetcdctl member remove ${m.id}`);
            ctx.out.eprintln("For more details, read the documentation at https://github.com/etcd-io/etcd/blob/master/Documentation/runtime-configuration.md#remove-a-member\n");
          }
        }
        if (!found) exitWith(ctx, 1, `Couldn't find a member in the cluster with an ID of ${id}.`);
        try {
          await removeMember(c, id, deadline);
        } catch (e) {
          ctx.out.eprint(`Received an error trying to remove member ${id}: ${(e as Error).message}`);
          return 1;
        }
        ctx.out.println(`Removed member ${id} from cluster`);
      },
    },
    {
      name: "update",
      usage: "update an existing member in the etcd cluster",
      argsUsage: "<memberID> <peerURLs>",
      async action(ctx) {
        if (ctx.args.length !== 2) exitWith(ctx, 1, "Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)");
        const c = await client(ctx);
        const [id, list] = ctx.args as [string, string];
        const peerUrls = urls(ctx, list.split(","));
        await orExit(ctx, () => updateMember(c, id, peerUrls, totalDeadline(ctx)));
        ctx.out.println(`Updated member with ID ${id} in cluster`);
      },
    },
  ],
};
