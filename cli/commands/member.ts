/**
 * `etcdctl member add|remove|update|list|promote` (etcdctl 3.4 `ctlv3/command/member_command.go`
 * on clientv3's Cluster API).
 *
 * Member IDs are read as hex uint64 (`strconv.ParseUint(arg, 16, 64)`); a bad one exits 128 with
 * `bad member ID arg (strconv.ParseUint: parsing "zz": invalid syntax), expecting ID in Hex`.
 * Peer URLs are checked on the client before MemberAdd/MemberUpdate as clientv3 does (etcd
 * `pkg/types.NewURLs`), failing with exit 1. Server errors exit 1 with etcd's message, e.g.
 * `etcdserver: member not found`, `etcdserver: Peer URLs already exists`,
 * `etcdserver: too many learner members in cluster`, `etcdserver: unhealthy cluster`.
 * Only `list` is retried on `Unavailable` (clientv3's repeatable calls).
 */
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import type { FlagSpec } from "../flags.ts";
import { GoSyntaxError, goParseUint } from "../go/strconv.ts";
import { goParseUrl, goSplitHostPortOk } from "../go/url.ts";
import type { CommandContext, CommandSpec } from "./types.ts";

const GROUP = "Membership related commands";

/** `--peer-urls` of `member add` and `member update`. */
function peerUrlsFlag(description: string): FlagSpec {
  return { name: "peer-urls", type: "string", default: "", description };
}

/**
 * A hex uint64 argument (`strconv.ParseUint(arg, 16, 64)`).
 * @param message the error text for Go's parse error text (e.g. `strconv.ParseUint: parsing "zz": invalid syntax`)
 * @throws CtlError exit 128 with `message(goError)`
 */
export function hexUintArg(arg: string, message: (goError: string) => string): bigint {
  try {
    return goParseUint(arg, 16);
  } catch (e) {
    if (!(e instanceof GoSyntaxError)) throw e;
    throw badArgs(message(e.message));
  }
}

/**
 * A member ID argument: exactly one, in hex (etcdctl's checks in remove/update/promote).
 * @throws CtlError exit 128 `member ID is not provided` or `bad member ID arg (...), expecting ID in Hex`
 */
export function memberIdFromArgs(args: string[]): bigint {
  if (args.length !== 1) throw badArgs("member ID is not provided");
  return hexUintArg(args[0]!, (e) => `bad member ID arg (${e}), expecting ID in Hex`);
}

/**
 * The `--peer-urls` text split at commas, after etcd's `types.NewURLs` check (what clientv3 does
 * before MemberAdd/MemberUpdate): each URL, trimmed, needs an http/https/unix/unixs scheme, a
 * `host:port` address and no path.
 * @throws CtlError exit 1 with Go's text, e.g. `URL scheme must be http, https, unix, or unixs: foo`,
 *   `URL address does not have the form "host:port": http://h`, `URL must not contain a path: ...`,
 *   or a `parse "...": ...` error of Go's url.Parse
 */
export function checkedPeerUrls(text: string): string[] {
  const urls = text.split(",");
  for (const raw of urls) {
    const url = raw.trim();
    try {
      const u = goParseUrl(url);
      if (!["http", "https", "unix", "unixs"].includes(u.scheme)) {
        throw new Error(`URL scheme must be http, https, unix, or unixs: ${url}`);
      }
      if (!goSplitHostPortOk(u.host)) throw new Error(`URL address does not have the form "host:port": ${url}`);
      if (u.path !== "") throw new Error(`URL must not contain a path: ${url}`);
    } catch (e) {
      throw new CtlError(ExitCode.Error, (e as Error).message);
    }
  }
  return urls;
}

/**
 * The `--peer-urls` text, which must not be empty.
 * @throws CtlError exit 128 `member peer urls not provided`
 */
function peerUrlsText(ctx: CommandContext): string {
  const text = ctx.flags.string("peer-urls");
  if (text === "") throw badArgs("member peer urls not provided");
  return text;
}

/** `member add <name> --peer-urls=<urls> [--learner]`. */
export const memberAddCommand: CommandSpec = {
  path: ["member", "add"],
  usage: "<memberName> [options]",
  description: "Adds a member into the cluster",
  groupDescription: GROUP,
  flags: [
    peerUrlsFlag("comma separated peer URLs for the new member."),
    { name: "learner", type: "bool", default: false, description: "indicates if the new member is raft learner" },
  ],
  async run(ctx) {
    if (ctx.args.length < 1) throw badArgs("member name not provided");
    if (ctx.args.length > 1) {
      const hints = ctx.args.filter((s) => s.toLowerCase().startsWith("http")).map((s) => `, did you mean --peer-urls=${s}`);
      throw badArgs(`too many arguments${hints.join("")}`);
    }
    const name = ctx.args[0]!;
    const text = peerUrlsText(ctx);
    const { client, printer } = await ctx.connect();
    const peerURLs = checkedPeerUrls(text);
    const isLearner = ctx.flags.bool("learner");
    const resp = await client.call((s, o) => s.cluster.memberAdd({ peerURLs, isLearner }, o));
    printer.memberAdd(resp, name, text);
  },
};

/** `member remove <memberID>`. */
export const memberRemoveCommand: CommandSpec = {
  path: ["member", "remove"],
  usage: "<memberID>",
  description: "Removes a member from the cluster",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    const ID = memberIdFromArgs(ctx.args);
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.cluster.memberRemove({ ID }, o));
    printer.memberRemove(ID, resp);
  },
};

/** `member update <memberID> --peer-urls=<urls>`. */
export const memberUpdateCommand: CommandSpec = {
  path: ["member", "update"],
  usage: "<memberID> [options]",
  description: "Updates a member in the cluster",
  groupDescription: GROUP,
  flags: [peerUrlsFlag("comma separated peer URLs for the updated member.")],
  async run(ctx) {
    const ID = memberIdFromArgs(ctx.args);
    const text = peerUrlsText(ctx);
    const { client, printer } = await ctx.connect();
    const peerURLs = checkedPeerUrls(text);
    const resp = await client.call((s, o) => s.cluster.memberUpdate({ ID, peerURLs }, o));
    printer.memberUpdate(ID, resp);
  },
};

/** `member list`: ID, status, name, peer and client URLs, learner flag of every member. */
export const memberListCommand: CommandSpec = {
  path: ["member", "list"],
  usage: "",
  description: "Lists all members in the cluster",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.cluster.memberList({}, o), { repeatable: true });
    printer.memberList(resp);
  },
};

/** `member promote <memberID>`: a learner becomes a voting member. */
export const memberPromoteCommand: CommandSpec = {
  path: ["member", "promote"],
  usage: "<memberID>",
  description: "Promotes a non-voting member in the cluster",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    const ID = memberIdFromArgs(ctx.args);
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.cluster.memberPromote({ ID }, o));
    printer.memberPromote(ID, resp);
  },
};

/** Every member command, in etcdctl's help order. */
export const MEMBER_COMMANDS: CommandSpec[] = [
  memberAddCommand,
  memberRemoveCommand,
  memberUpdateCommand,
  memberListCommand,
  memberPromoteCommand,
];
