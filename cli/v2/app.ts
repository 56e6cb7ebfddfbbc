/**
 * etcdctl's v2 mode (`ETCDCTL_API=2`, `etcdctl/ctlv2/ctl.go`): the global flags, the command
 * table and urfave/cli's dispatch — global flags, then the command name (exact names only), then
 * the command's flags; help, `Incorrect Usage` and `No help topic for 'x'` (exit 3) as urfave prints them.
 */
import pkg from "../../package.json" with { type: "json" };
import type { Output } from "../output.ts";
import type { Stdin } from "../stdin.ts";
import { AUTH_COMMAND, ROLE_COMMAND, USER_COMMAND } from "./commands/auth.ts";
import { BACKUP_COMMAND } from "./commands/backup.ts";
import { CLUSTER_HEALTH_COMMAND } from "./commands/health.ts";
import { KEY_COMMANDS } from "./commands/keys.ts";
import { MEMBER_COMMAND } from "./commands/member.ts";
import type { V2Command } from "./commands/types.ts";
import { WATCH_COMMANDS } from "./commands/watch.ts";
import { V2ExitError, type V2Context } from "./context.ts";
import { goFlagParse, reorderArgs, V2FlagValues, type V2Flag } from "./flags.ts";
import { appHelp, commandHelp, subcommandHelp } from "./help.ts";

/** etcdctl v2's global flags, in its help order. */
export const V2_GLOBAL_FLAGS: V2Flag[] = [
  { names: ["debug"], type: "bool", usage: "output cURL commands which can be used to reproduce the request" },
  { names: ["no-sync"], type: "bool", usage: "don't synchronize cluster information before sending request" },
  { names: ["output", "o"], type: "string", value: "simple", usage: "output response in the given format (`simple`, `extended` or `json`)" },
  { names: ["discovery-srv", "D"], type: "string", usage: "domain name to query for SRV records describing cluster endpoints" },
  { names: ["insecure-discovery"], type: "bool", usage: "accept insecure SRV records describing cluster endpoints" },
  { names: ["peers", "C"], type: "string", usage: 'DEPRECATED - "--endpoints" should be used instead' },
  { names: ["endpoint"], type: "string", usage: 'DEPRECATED - "--endpoints" should be used instead' },
  { names: ["endpoints"], type: "string", usage: 'a comma-delimited list of machine addresses in the cluster (default: "http://127.0.0.1:2379,http://127.0.0.1:4001")' },
  { names: ["cert-file"], type: "string", usage: "identify HTTPS client using this SSL certificate file" },
  { names: ["key-file"], type: "string", usage: "identify HTTPS client using this SSL key file" },
  { names: ["ca-file"], type: "string", usage: "verify certificates of HTTPS-enabled servers using this CA bundle" },
  { names: ["username", "u"], type: "string", usage: "provide username[:password] and prompt if password is not supplied." },
  { names: ["timeout"], type: "duration", value: 2000, usage: "connection timeout per request" },
  { names: ["total-timeout"], type: "duration", value: 5000, usage: "timeout for the command execution (except watch)" },
];

/** The v2 commands in etcdctl's order (`user`, `role` and `auth` are declared but refuse: commands/auth.ts). */
export const V2_COMMANDS: V2Command[] = [
  BACKUP_COMMAND,
  CLUSTER_HEALTH_COMMAND,
  ...KEY_COMMANDS,
  ...WATCH_COMMANDS,
  MEMBER_COMMAND,
  USER_COMMAND,
  ROLE_COMMAND,
  AUTH_COMMAND,
];

const USAGE = "A simple command line client for etcd.";
const VERSION_FLAG: V2Flag = { names: ["version", "v"], type: "bool", usage: "print the version" };

function noHelpTopic(out: Output, name: string): number {
  out.eprintln(`No help topic for '${name}'`);
  return 3;
}

/** A leaf command: its flags (after urfave's reordering), help, then the action. */
async function runCommand(cmd: V2Command, helpName: string, args: string[], global: V2FlagValues, env: Record<string, string | undefined>, out: Output, stdin: Stdin): Promise<number> {
  const flags = cmd.flags ?? [];
  let parsed;
  try {
    parsed = goFlagParse(flags, reorderArgs([...flags, { names: ["help", "h"], type: "bool", usage: "" }], args));
  } catch (e) {
    out.print(`Incorrect Usage: ${(e as Error).message}\n\n`, commandHelp(helpName, cmd));
    out.eprintln((e as Error).message);
    return 1;
  }
  if (parsed.help) {
    out.print(commandHelp(helpName, cmd));
    return 0;
  }
  const ctx: V2Context = { args: parsed.args, flags: parsed.values, global, env, out, stdin };
  try {
    return (await cmd.action!(ctx)) ?? 0;
  } catch (e) {
    if (e instanceof V2ExitError) return e.code;
    throw e;
  }
}

/** A command group (`member`): its subcommand, or the group's help. */
async function runGroup(group: V2Command, args: string[], global: V2FlagValues, env: Record<string, string | undefined>, out: Output, stdin: Stdin): Promise<number> {
  const helpName = `etcdctl ${group.name}`;
  let parsed;
  try {
    parsed = goFlagParse([], args);
  } catch (e) {
    out.print(`Incorrect Usage. ${(e as Error).message}\n\n`, subcommandHelp(helpName, group));
    out.eprintln((e as Error).message);
    return 1;
  }
  const name = parsed.args[0];
  if (parsed.help || name === undefined) {
    out.print(subcommandHelp(helpName, group));
    return 0;
  }
  if (name === "help" || name === "h") {
    const topic = parsed.args[1];
    if (topic === undefined) {
      out.print(subcommandHelp(helpName, group));
      return 0;
    }
    const sub = group.subcommands!.find((s) => s.name === topic);
    if (!sub) return noHelpTopic(out, topic);
    out.print(commandHelp(`${helpName} ${sub.name}`, sub));
    return 0;
  }
  const sub = group.subcommands!.find((s) => s.name === name);
  if (!sub) return noHelpTopic(out, name);
  return runCommand(sub, `${helpName} ${sub.name}`, parsed.args.slice(1), global, env, out, stdin);
}

/**
 * Runs etcdctl in v2 mode with `argv` (arguments only).
 * @returns the process exit code: 0; 1 bad arguments; 2 no connection; 4 server error; 5 cluster unhealthy; 3 unknown command
 */
export async function runV2(argv: string[], env: Record<string, string | undefined>, out: Output, stdin: Stdin): Promise<number> {
  const help = () => appHelp(pkg.version, USAGE, V2_COMMANDS, V2_GLOBAL_FLAGS);
  let parsed;
  try {
    parsed = goFlagParse([...V2_GLOBAL_FLAGS, VERSION_FLAG], argv);
  } catch (e) {
    out.print(`Incorrect Usage. ${(e as Error).message}\n\n`, help());
    out.eprintln((e as Error).message);
    return 1;
  }
  const global = parsed.values;
  if (parsed.help) {
    out.print(help());
    return 0;
  }
  if (global.bool("version")) {
    out.print(`etcdctl version: ${pkg.version}\nAPI version: 2\n`);
    return 0;
  }
  const [name, ...rest] = parsed.args;
  if (name === undefined) {
    out.print(help());
    return 0;
  }
  if (name === "help" || name === "h") {
    if (rest[0] === undefined) {
      out.print(help());
      return 0;
    }
    const cmd = V2_COMMANDS.find((c) => c.name === rest[0]);
    if (!cmd) return noHelpTopic(out, rest[0]);
    out.print(commandHelp(`etcdctl ${cmd.name}`, cmd));
    return 0;
  }
  const cmd = V2_COMMANDS.find((c) => c.name === name);
  if (!cmd) return noHelpTopic(out, name);
  if (cmd.subcommands) return runGroup(cmd, rest, global, env, out, stdin);
  return runCommand(cmd, `etcdctl ${cmd.name}`, rest, global, env, out, stdin);
}
