/**
 * `etcdctl user add|delete|get|list|passwd|grant-role|revoke-role` (etcdctl 3.4
 * `ctlv3/command/user_command.go` on clientv3's Auth API).
 *
 * Argument errors exit 128 with etcdctl's texts; server errors exit 1 with etcd's message (e.g.
 * `etcdserver: user name already exists`, `etcdserver: user name not found`,
 * `etcdserver: role name not found`, `etcdserver: permission denied`). The calls have no
 * deadline (etcdctl uses `context.TODO()`); `get` and `list` are retried on `Unavailable`.
 *
 * Passwords: `user add name:password`, `--new-user-password`, or asked on the terminal
 * (`--interactive`, the default: prompt twice on stdout, echo off with stty) or read as one word
 * from stdin (`--interactive=false`, Go's `fmt.Scanf("%s")`); `--no-password` creates a user that
 * can only authenticate by TLS common name.
 */
import { badArgs } from "../errors.ts";
import type { FlagSpec } from "../flags.ts";
import { askPassword, scanWord } from "../password.ts";
import type { CommandContext, CommandSpec } from "./types.ts";

const GROUP = "User related commands";

/** `--interactive` of `user add` and `user passwd` (same flag, different help text). */
function interactiveFlag(description: string): FlagSpec {
  return { name: "interactive", type: "bool", default: true, description };
}

/** etcdctl's `readPasswordInteractive`: asks twice on the terminal. */
async function readPasswordInteractive(ctx: CommandContext, name: string): Promise<string> {
  const ask = async (prompt: string) => {
    try {
      return await askPassword(prompt, ctx.out, ctx.stdin);
    } catch (e) {
      throw badArgs(`failed to ask password: ${(e as Error).message}`);
    }
  };
  const first = await ask(`Password of ${name}: `);
  if (first.length === 0) throw badArgs("empty password");
  const second = await ask(`Type password of ${name} again for confirmation: `);
  if (first !== second) throw badArgs("given passwords are different");
  return first;
}

/** The password of `user add` / `user passwd` without one on the command line. */
function readPassword(ctx: CommandContext, name: string): Promise<string> {
  return ctx.flags.bool("interactive") ? readPasswordInteractive(ctx, name) : scanWord(ctx.stdin);
}

/** `user add <user name or user:password> [--new-user-password=pw] [--no-password] [--interactive]`. */
export const userAddCommand: CommandSpec = {
  path: ["user", "add"],
  usage: "<user name or user:password> [options]",
  description: "Adds a new user",
  groupDescription: GROUP,
  flags: [
    interactiveFlag("Read password from stdin instead of interactive terminal"),
    { name: "new-user-password", type: "string", default: "", description: "Supply password from the command line flag" },
    { name: "no-password", type: "bool", default: false, description: "Create a user without password (CN based auth only)" },
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user add command requires user name as its argument");
    const arg = ctx.args[0]!;
    const noPassword = ctx.flags.bool("no-password");
    const fromFlag = ctx.flags.string("new-user-password");
    let name = arg;
    let password = "";
    if (!noPassword) {
      const colon = arg.indexOf(":");
      if (fromFlag !== "") password = fromFlag;
      else if (colon < 0) password = await readPassword(ctx, arg);
      else {
        name = arg.slice(0, colon);
        password = arg.slice(colon + 1);
        if (name.length === 0) throw badArgs("empty user name is not allowed");
      }
    }
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.userAdd({ name, password, options: { noPassword } }, o), { timeoutMs: null });
    printer.userAdd(name, resp);
  },
};

/** `user delete <user name>`. */
export const userDeleteCommand: CommandSpec = {
  path: ["user", "delete"],
  usage: "<user name>",
  description: "Deletes a user",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user delete command requires user name as its argument");
    const name = ctx.args[0]!;
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.userDelete({ name }, o), { timeoutMs: null });
    printer.userDelete(name, resp);
  },
};

/**
 * `user get <user name> [--detail]`: the user's roles; with `--detail`, `User: <name>` and then,
 * after a blank line each, every role as `role get` prints it (in the chosen format).
 */
export const userGetCommand: CommandSpec = {
  path: ["user", "get"],
  usage: "<user name> [options]",
  description: "Gets detailed information of a user",
  groupDescription: GROUP,
  flags: [{ name: "detail", type: "bool", default: false, description: "Show permissions of roles granted to the user" }],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user get command requires user name as its argument");
    const name = ctx.args[0]!;
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.userGet({ name }, o), { timeoutMs: null, repeatable: true });
    if (!ctx.flags.bool("detail")) {
      printer.userGet(name, resp);
      return;
    }
    ctx.out.println(`User: ${name}`);
    for (const role of resp.roles) {
      ctx.out.println("");
      const roleResp = await client.call((s, o) => s.auth.roleGet({ role }, o), { timeoutMs: null, repeatable: true });
      printer.roleGet(role, roleResp);
    }
  },
};

/** `user list`. */
export const userListCommand: CommandSpec = {
  path: ["user", "list"],
  usage: "",
  description: "Lists all users",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("user list command requires no arguments");
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.userList({}, o), { timeoutMs: null, repeatable: true });
    printer.userList(resp);
  },
};

/** `user passwd <user name> [--interactive]`. */
export const userPasswdCommand: CommandSpec = {
  path: ["user", "passwd"],
  usage: "<user name> [options]",
  description: "Changes password of user",
  groupDescription: GROUP,
  flags: [interactiveFlag("If true, read password from stdin instead of interactive terminal")],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user passwd command requires user name as its argument");
    const name = ctx.args[0]!;
    const password = await readPassword(ctx, name);
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.userChangePassword({ name, password }, o), { timeoutMs: null });
    printer.userChangePassword(resp);
  },
};

/** `user grant-role <user name> <role name>`. */
export const userGrantRoleCommand: CommandSpec = {
  path: ["user", "grant-role"],
  usage: "<user name> <role name>",
  description: "Grants a role to a user",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 2) throw badArgs("user grant command requires user name and role name as its argument");
    const [user, role] = ctx.args as [string, string];
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.userGrantRole({ user, role }, o), { timeoutMs: null });
    printer.userGrantRole(user, role, resp);
  },
};

/** `user revoke-role <user name> <role name>`. */
export const userRevokeRoleCommand: CommandSpec = {
  path: ["user", "revoke-role"],
  usage: "<user name> <role name>",
  description: "Revokes a role from a user",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 2) throw badArgs("user revoke-role requires user name and role name as its argument");
    const [name, role] = ctx.args as [string, string];
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.auth.userRevokeRole({ name, role }, o), { timeoutMs: null });
    printer.userRevokeRole(name, role, resp);
  },
};

/** Every user command, in etcdctl's order. */
export const USER_COMMANDS: CommandSpec[] = [
  userAddCommand,
  userDeleteCommand,
  userGetCommand,
  userListCommand,
  userPasswdCommand,
  userGrantRoleCommand,
  userRevokeRoleCommand,
];
