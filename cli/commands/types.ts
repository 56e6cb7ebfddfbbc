/**
 * The contract between main.ts (argument parsing, error printing, exit) and one etcdctl command.
 * A command is a {@link CommandSpec}; add it to `registry.ts` and main.ts wires it into cac.
 */
import type { ClientConfig, EtcdClient } from "../client.ts";
import type { FlagSet, FlagSpec } from "../flags.ts";
import type { GlobalConfig } from "../global.ts";
import type { Output } from "../output.ts";
import type { Printer } from "../print/printer.ts";
import type { Stdin } from "../stdin.ts";

/** What a running command can use. */
export interface CommandContext {
  /** Positional arguments after the command name (including those after `--`). */
  args: string[];
  /** The whole command line as given, global flags included (etcdctl's `os.Args[1:]`; `watch` finds its `--` there). */
  rawArgs: string[];
  /** The command's own flags and the global ones, as given on the command line. */
  flags: FlagSet;
  out: Output;
  stdin: Stdin;
  /**
   * etcdctl's `mustClientFromCmd`: applies `ETCDCTL_*` environment variables, checks the TLS
   * flags, asks for the `--user` password when not given, checks `-w`, reads the TLS files and
   * authenticates; returns the client, the printer and the effective global settings.
   * @throws CtlError exit 4 `unsupported output format`; exit 1 on a flag/env conflict; exit 128
   *   for TLS flag and file errors; exit 2 when authentication fails (see EtcdClient.authenticate)
   */
  connect(): Promise<{ client: EtcdClient; printer: Printer; global: GlobalConfig }>;
  /**
   * The client settings without connecting (for commands that make one client per endpoint):
   * environment, TLS flag checks, `--user` password prompt, TLS files.
   * @throws CtlError as {@link connect}, except exit 2 and 4
   */
  clientConfig(): Promise<ClientConfig>;
  /** Like {@link connect} without building a client (etcdctl's `initDisplayFromCmd` after env). */
  display(): { printer: Printer; global: GlobalConfig };
}

/** One etcdctl command, e.g. `get` or `member list`. */
export interface CommandSpec {
  /** Name path: `["get"]`, `["member", "list"]`. */
  path: string[];
  /** etcdctl's `Use` line after the name, e.g. `[options] <key> [range_end]` (help and cobra usage text). */
  usage: string;
  /** One-line description (etcdctl's `Short`). */
  description: string;
  /** For a subcommand: description of its group (`member`: "Membership related commands"). */
  groupDescription?: string;
  /** Flags of this command (global flags are added by main.ts). */
  flags: FlagSpec[];
  /** Flags that, like globals, may also come from `ETCDCTL_<NAME>` (cobra persistent flags of a group). */
  inheritedFlags?: FlagSpec[];
  /**
   * Runs the command. Throw CtlError for failures; resolve for exit 0.
   * @returns an exit code other than 0 when the command fails without an `Error:` line
   */
  run(ctx: CommandContext): Promise<number | void>;
}
