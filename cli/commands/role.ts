/**
 * `etcdctl role add|delete|get|list|grant-permission|revoke-permission` (etcdctl 3.4
 * `ctlv3/command/role_command.go` on clientv3's Auth API).
 *
 * Permissions cover one key, `[key, end)`, a prefix (`--prefix`: end is clientv3's prefix end of
 * the key) or every key from the key on (`--from-key`: end `\x00`); an empty key means `\x00`
 * (the whole key space with `--prefix`/`--from-key`). Argument errors exit 128 with etcdctl's
 * texts (`invalid permission type: x`, `--from-key and --prefix flags are mutually exclusive`,
 * `unexpected endkey argument with --prefix flag`...); server errors exit 1 (e.g.
 * `etcdserver: role name already exists`, `etcdserver: permission is not granted to the role`).
 * The calls have no deadline (`context.TODO()`); `get` and `list` are retried on `Unavailable`.
 */
import { Permission_Type } from "../../proto/gen/authpb/auth_pb.ts";
import { badArgs } from "../errors.ts";
import type { FlagSet, FlagSpec } from "../flags.ts";
import { utf8 } from "../go/utf8.ts";
import { prefixEnd } from "./kv-requests.ts";
import type { CommandSpec } from "./types.ts";

const GROUP = "Role related commands";
const ZERO = Uint8Array.of(0);

/** `--prefix` and `--from-key` of grant-permission / revoke-permission. */
function permFlags(verb: "grant" | "revoke"): FlagSpec[] {
  return [
    { name: "prefix", type: "bool", default: false, description: `${verb} a prefix permission` },
    {
      name: "from-key",
      type: "bool",
      default: false,
      description: `${verb} a permission of keys that are greater than or equal to the given key using byte compare`,
    },
  ];
}

/**
 * etcdctl's `permRange`: the key and range end for `<key> [endkey]` and the flags.
 * @throws CtlError exit 128 for conflicting flags or an end key with `--prefix`/`--from-key`
 */
export function permRange(args: string[], flags: FlagSet): { key: Uint8Array; rangeEnd: Uint8Array } {
  const prefix = flags.bool("prefix");
  const fromKey = flags.bool("from-key");
  const key = args[0]!;
  if (key.length === 0) {
    if (prefix && fromKey) throw badArgs("--from-key and --prefix flags are mutually exclusive");
    // The empty key is `\x00` (adt's affine interval); with a flag it opens the whole key space.
    return { key: ZERO, rangeEnd: prefix || fromKey ? ZERO : new Uint8Array(0) };
  }
  const keyBytes = utf8(key);
  if (args.length === 1) {
    if (prefix) {
      if (fromKey) throw badArgs("--from-key and --prefix flags are mutually exclusive");
      return { key: keyBytes, rangeEnd: prefixEnd(keyBytes) };
    }
    return { key: keyBytes, rangeEnd: fromKey ? ZERO : new Uint8Array(0) };
  }
  if (prefix) throw badArgs("unexpected endkey argument with --prefix flag");
  if (fromKey) throw badArgs("unexpected endkey argument with --from-key flag");
  return { key: keyBytes, rangeEnd: utf8(args[1]!) };
}

/** clientv3's `StrToPermissionType`: READ, WRITE or READWRITE in any case. */
function permissionType(text: string): Permission_Type {
  const value = (Permission_Type as unknown as Record<string, Permission_Type | undefined>)[text.toUpperCase()];
  if (typeof value !== "number") throw badArgs(`invalid permission type: ${text}`);
  return value;
}

/** `role add <role name>`. */
export const roleAddCommand: CommandSpec = {
  path: ["role", "add"],
  usage: "<role name>",
  description: "Adds a new role",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("role add command requires role name as its argument");
    const name = ctx.args[0]!;
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.roleAdd({ name }, o), { timeoutMs: null });
    printer.roleAdd(name, resp);
  },
};

/** `role delete <role name>`. */
export const roleDeleteCommand: CommandSpec = {
  path: ["role", "delete"],
  usage: "<role name>",
  description: "Deletes a role",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("role delete command requires role name as its argument");
    const role = ctx.args[0]!;
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.roleDelete({ role }, o), { timeoutMs: null });
    printer.roleDelete(role, resp);
  },
};

/** `role get <role name>`. */
export const roleGetCommand: CommandSpec = {
  path: ["role", "get"],
  usage: "<role name>",
  description: "Gets detailed information of a role",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("role get command requires role name as its argument");
    const role = ctx.args[0]!;
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.roleGet({ role }, o), { timeoutMs: null, repeatable: true });
    printer.roleGet(role, resp);
  },
};

/** `role list`. */
export const roleListCommand: CommandSpec = {
  path: ["role", "list"],
  usage: "",
  description: "Lists all roles",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("role list command requires no arguments");
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.roleList({}, o), { timeoutMs: null, repeatable: true });
    printer.roleList(resp);
  },
};

/** `role grant-permission [--prefix|--from-key] <role name> <read|write|readwrite> <key> [endkey]`. */
export const roleGrantPermissionCommand: CommandSpec = {
  path: ["role", "grant-permission"],
  usage: "[options] <role name> <permission type> <key> [endkey]",
  description: "Grants a key to a role",
  groupDescription: GROUP,
  flags: permFlags("grant"),
  async run(ctx) {
    if (ctx.args.length < 3) {
      throw badArgs("role grant command requires role name, permission type, and key [endkey] as its argument");
    }
    const name = ctx.args[0]!;
    const permType = permissionType(ctx.args[1]!);
    const { key, rangeEnd } = permRange(ctx.args.slice(2), ctx.flags);
    const { client, printer } = await ctx.connect();
    const perm = { key, rangeEnd, permType };
    const resp = await client.call((s, o) => s.auth.roleGrantPermission({ name, perm }, o), { timeoutMs: null });
    printer.roleGrantPermission(name, resp);
  },
};

/** `role revoke-permission [--prefix|--from-key] <role name> <key> [endkey]`. */
export const roleRevokePermissionCommand: CommandSpec = {
  path: ["role", "revoke-permission"],
  usage: "<role name> <key> [endkey]",
  description: "Revokes a key from a role",
  groupDescription: GROUP,
  flags: permFlags("revoke"),
  async run(ctx) {
    if (ctx.args.length < 2) throw badArgs("role revoke-permission command requires role name and key [endkey] as its argument");
    const role = ctx.args[0]!;
    const { key, rangeEnd } = permRange(ctx.args.slice(1), ctx.flags);
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.roleRevokePermission({ role, key, rangeEnd }, o), { timeoutMs: null });
    printer.roleRevokePermission(role, ctx.args[1]!, rangeEnd, resp);
  },
};

/** Every role command, in etcdctl's order. */
export const ROLE_COMMANDS: CommandSpec[] = [
  roleAddCommand,
  roleDeleteCommand,
  roleGetCommand,
  roleListCommand,
  roleGrantPermissionCommand,
  roleRevokePermissionCommand,
];
