/**
 * etcdctl v2's key commands (`ctlv2/command/{set,get,update,mk,mkdir,set_dir,update_dir,rm,rmdir,ls}_command.go`):
 * each builds the client first (syncing, as `mustNewKeyAPI` does before any argument check), sends one KeysAPI request and prints it with printResponseKey; a server error is
 * `Error:  <code>: <message> (<cause>) [<index>]`, exit 4; a missing argument exits 1.
 */
import { mustClient } from "../connect.ts";
import { handleError, totalDeadline, V2Exit, type V2Context } from "../context.ts";
import type { V2Flag } from "../flags.ts";
import { printResponseKey } from "../format.ts";
import { createInOrderRequest, deleteRequest, getRequest, keysResponse, setRequest, type PrevExist, type V2Node, type V2Response } from "../keys.ts";
import type { V2Client, V2Request } from "../client.ts";
import type { V2Command } from "./types.ts";

const TTL: V2Flag = { names: ["ttl"], type: "int", value: 0, usage: "key time-to-live in seconds" };

/** Sends `req` with the command's total timeout; server and transport errors end the command (exit 4). */
async function send(ctx: V2Context, client: V2Client, req: V2Request): Promise<V2Response> {
  try {
    return keysResponse(await client.do(req, totalDeadline(ctx)));
  } catch (e) {
    handleError(ctx, V2Exit.ServerError, e);
  }
}

function key(ctx: V2Context): string {
  if (ctx.args.length === 0) handleError(ctx, V2Exit.BadArgs, "key required");
  return ctx.args[0]!;
}

/** argOrStdin: the value argument, else all of stdin (empty stdin: `value required`). */
async function value(ctx: V2Context): Promise<string> {
  if (ctx.args.length > 1) return ctx.args[1]!;
  const bytes = await ctx.stdin.readAll();
  if (bytes.length === 0) handleError(ctx, V2Exit.BadArgs, "value required");
  return new TextDecoder().decode(bytes);
}

const format = (ctx: V2Context) => ctx.global.string("output");

async function setLike(ctx: V2Context, opts: { prevValue?: string; prevIndex?: number; prevExist?: PrevExist }): Promise<void> {
  const c = await mustClient(ctx);
  const k = key(ctx);
  const v = await value(ctx);
  const r = await send(ctx, c, setRequest(k, v, { ...opts, ttlSeconds: ctx.flags.int("ttl") }));
  printResponseKey(ctx.out, r, format(ctx));
}

async function dirLike(ctx: V2Context, prevExist: PrevExist): Promise<void> {
  const c = await mustClient(ctx);
  const k = key(ctx);
  const r = await send(ctx, c, setRequest(k, "", { dir: true, prevExist, ttlSeconds: ctx.flags.int("ttl") }));
  if (format(ctx) !== "simple") printResponseKey(ctx.out, r, format(ctx));
}

async function removeLike(ctx: V2Context, o: { prevValue?: string; prevIndex?: number; dir?: boolean; recursive?: boolean }): Promise<void> {
  const c = await mustClient(ctx);
  const k = key(ctx);
  const r = await send(ctx, c, deleteRequest(k, o));
  if (!r.node?.dir || format(ctx) !== "simple") printResponseKey(ctx.out, r, format(ctx));
}

/** ls's rPrint: each node, `-p` adding `/` to directories, children after their parent. */
function printTree(ctx: V2Context, n: V2Node): void {
  ctx.out.println(n.dir && ctx.flags.bool("p") ? `${n.key}/` : n.key);
  for (const c of n.nodes ?? []) printTree(ctx, c);
}

export const KEY_COMMANDS: V2Command[] = [
  {
    name: "mk",
    usage: "make a new key with a given value",
    argsUsage: "<key> <value>",
    flags: [{ names: ["in-order"], type: "bool", usage: "create in-order key under directory <key>" }, TTL],
    async action(ctx) {
      const c = await mustClient(ctx);
      const k = key(ctx);
      const v = await value(ctx);
      const ttl = ctx.flags.int("ttl");
      const req = ctx.flags.bool("in-order") ? createInOrderRequest(k, v, ttl) : setRequest(k, v, { prevExist: "false", ttlSeconds: ttl });
      printResponseKey(ctx.out, await send(ctx, c, req), format(ctx));
    },
  },
  {
    name: "mkdir",
    usage: "make a new directory",
    argsUsage: "<key>",
    flags: [TTL],
    action: (ctx) => dirLike(ctx, "false"),
  },
  {
    name: "rm",
    usage: "remove a key or a directory",
    argsUsage: "<key>",
    flags: [
      { names: ["dir"], type: "bool", usage: "removes the key if it is an empty directory or a key-value pair" },
      { names: ["recursive", "r"], type: "bool", usage: "removes the key and all child keys(if it is a directory)" },
      { names: ["with-value"], type: "string", value: "", usage: "previous value" },
      { names: ["with-index"], type: "int", value: 0, usage: "previous index" },
    ],
    action: (ctx) =>
      removeLike(ctx, { prevValue: ctx.flags.string("with-value"), prevIndex: ctx.flags.int("with-index"), dir: ctx.flags.bool("dir"), recursive: ctx.flags.bool("recursive") }),
  },
  {
    name: "rmdir",
    usage: "removes the key if it is an empty directory or a key-value pair",
    argsUsage: "<key>",
    action: (ctx) => removeLike(ctx, { dir: true }),
  },
  {
    name: "get",
    usage: "retrieve the value of a key",
    argsUsage: "<key>",
    flags: [
      { names: ["sort"], type: "bool", usage: "returns result in sorted order" },
      { names: ["quorum", "q"], type: "bool", usage: "require quorum for get request" },
    ],
    async action(ctx) {
      const c = await mustClient(ctx);
      const k = key(ctx);
      const r = await send(ctx, c, getRequest(k, { sort: ctx.flags.bool("sort"), quorum: ctx.flags.bool("quorum") }));
      if (r.node?.dir) {
        ctx.out.eprintln(`${r.node.key}: is a directory`);
        return 1;
      }
      printResponseKey(ctx.out, r, format(ctx));
    },
  },
  {
    name: "ls",
    usage: "retrieve a directory",
    argsUsage: "[key]",
    flags: [
      { names: ["sort"], type: "bool", usage: "returns result in sorted order" },
      { names: ["recursive", "r"], type: "bool", usage: "returns all key names recursively for the given path" },
      { names: ["p"], type: "bool", usage: "append slash (/) to directories" },
      { names: ["quorum", "q"], type: "bool", usage: "require quorum for get request" },
    ],
    async action(ctx) {
      const c = await mustClient(ctx);
      const k = ctx.args[0] ?? "/";
      const r = await send(ctx, c, getRequest(k, { sort: ctx.flags.bool("sort"), recursive: ctx.flags.bool("recursive"), quorum: ctx.flags.bool("quorum") }));
      if (format(ctx) !== "simple") return printResponseKey(ctx.out, r, format(ctx));
      if (!r.node!.dir) ctx.out.println(r.node!.key);
      for (const n of r.node!.nodes ?? []) printTree(ctx, n);
    },
  },
  {
    name: "set",
    usage: "set the value of a key",
    argsUsage: "<key> <value>",
    description:
      "Set sets the value of a key.\n\n   When <value> begins with '-', <value> is interpreted as a flag.\n   Insert '--' for workaround:\n\n   $ set -- <key> <value>",
    flags: [
      TTL,
      { names: ["swap-with-value"], type: "string", value: "", usage: "previous value" },
      { names: ["swap-with-index"], type: "int", value: 0, usage: "previous index" },
    ],
    action: (ctx) => setLike(ctx, { prevValue: ctx.flags.string("swap-with-value"), prevIndex: ctx.flags.int("swap-with-index") }),
  },
  {
    name: "setdir",
    usage: "create a new directory or update an existing directory TTL",
    argsUsage: "<key>",
    flags: [TTL],
    action: (ctx) => dirLike(ctx, undefined),
  },
  {
    name: "update",
    usage: "update an existing key with a given value",
    argsUsage: "<key> <value>",
    flags: [TTL],
    action: (ctx) => setLike(ctx, { prevExist: "true" }),
  },
  {
    name: "updatedir",
    usage: "update an existing directory",
    argsUsage: "<key> <value>",
    flags: [TTL],
    action: (ctx) => dirLike(ctx, "true"),
  },
];
