/**
 * `etcdctl auth enable|disable` (etcdctl 3.4 `ctlv3/command/auth_command.go`) and `auth status`
 * (etcdctl 3.5: `Authentication Status: <bool>` / `AuthRevision: <n>`, the response in `-w json`
 * and `-w protobuf`, `table`/`fields` not supported as output format, exit 4).
 *
 * `enable` creates what etcd requires first, as etcdctl does: on `etcdserver: root user does not
 * have root role` it adds role `root`, grants it to user `root` and tries again (a missing user
 * `root` stays an error: `etcdserver: root user does not exist`). Both print their line whatever
 * `-w` says, within one `--command-timeout` for all calls; errors exit 1.
 */
import { Errors } from "../../server/errors.ts";
import { badArgs, CtlError } from "../errors.ts";
import type { CommandSpec } from "./types.ts";

const GROUP = "Enable or disable authentication";
const ROOT_ROLE_NOT_EXIST = Errors.RootRoleNotExist().rawMessage;

/** `auth enable`. */
export const authEnableCommand: CommandSpec = {
  path: ["auth", "enable"],
  usage: "",
  description: "Enables authentication",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("auth enable command does not accept any arguments");
    const { client, global } = await ctx.connect();
    const deadline = Date.now() + global.commandTimeoutMs;
    const timeout = () => ({ timeoutMs: Math.max(0, deadline - Date.now()) });
    for (;;) {
      try {
        await client.call((s, o) => s.auth.authEnable({}, o), timeout());
        break;
      } catch (e) {
        if (!(e instanceof CtlError && e.message === ROOT_ROLE_NOT_EXIST)) throw e;
      }
      await client.call((s, o) => s.auth.roleAdd({ name: "root" }, o), timeout());
      await client.call((s, o) => s.auth.userGrantRole({ user: "root", role: "root" }, o), timeout());
    }
    ctx.out.println("Authentication Enabled");
  },
};

/** `auth disable`. */
export const authDisableCommand: CommandSpec = {
  path: ["auth", "disable"],
  usage: "",
  description: "Disables authentication",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("auth disable command does not accept any arguments");
    const { client } = await ctx.connect();
    await client.call((s, o) => s.auth.authDisable({}, o));
    ctx.out.println("Authentication Disabled");
  },
};

/** `auth status` (etcdctl 3.5). */
export const authStatusCommand: CommandSpec = {
  path: ["auth", "status"],
  usage: "",
  description: "Returns authentication status",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("auth status command does not accept any arguments");
    const { client, printer } = await ctx.connect();
    printer.authStatus(await client.call((s, o) => s.auth.authStatus({}, o)));
  },
};

/** The auth commands, in etcdctl 3.5's order. */
export const AUTH_COMMANDS: CommandSpec[] = [authEnableCommand, authDisableCommand, authStatusCommand];
