/**
 * Help texts of etcdctl's v2 mode, as urfave/cli v1 renders its templates (`template.go`:
 * AppHelpTemplate, CommandHelpTemplate, SubcommandHelpTemplate) through a tabwriter with two
 * spaces of padding, and its flag rendering (`flag.go` stringifyFlag: a `value` placeholder, or
 * the first back-quoted word of the usage; `(default: ...)` for flags with a Value).
 */
import { goDurationString } from "../go/duration.ts";
import { goQuote } from "../go/strconv.ts";
import type { V2Flag } from "./flags.ts";

/** What help needs to know of a command. */
export interface HelpCommand {
  name: string;
  usage: string;
  argsUsage?: string;
  description?: string;
  flags?: V2Flag[];
  subcommands?: HelpCommand[];
}

/** Go's text/tabwriter (padding 2, minwidth 0) over consecutive `\t`-holding lines. */
function tabulate(rows: [string, string][], indent: string): string {
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}${b}`.trimEnd()).join("\n");
}

/** urfave's `stringifyFlag`: `[names with placeholder, usage with default]`. */
export function flagColumns(f: V2Flag): [string, string] {
  let usage = f.usage;
  let placeholder = "";
  const open = usage.indexOf("`");
  const close = open >= 0 ? usage.indexOf("`", open + 1) : -1;
  if (close > open && open >= 0) {
    placeholder = usage.slice(open + 1, close);
    usage = usage.slice(0, open) + placeholder + usage.slice(close + 1);
  }
  let def = "";
  if (f.type !== "bool") {
    if (placeholder === "") placeholder = "value";
    const v = f.value ?? (f.type === "string" ? "" : 0);
    if (f.type === "string") def = v === "" ? "" : ` (default: ${goQuote(String(v))})`;
    else if (f.type === "duration") def = ` (default: ${goDurationString(BigInt(Math.round(Number(v) * 1e6)))})`;
    else def = ` (default: ${v})`;
  }
  const names = f.names.map((n) => (n.length === 1 ? "-" : "--") + n + (placeholder ? ` ${placeholder}` : "")).join(", ");
  return [names, (usage + def).trim()];
}

/** `etcdctl <command> --help` (CommandHelpTemplate), newline-terminated. */
export function commandHelp(helpName: string, c: HelpCommand): string {
  const flags = c.flags ?? [];
  let s = `NAME:\n   ${helpName} - ${c.usage}\n\nUSAGE:\n   ${helpName}${flags.length ? " [command options]" : ""} ${c.argsUsage ?? "[arguments...]"}`;
  if (c.description) s += `\n\nDESCRIPTION:\n   ${c.description}`;
  if (flags.length) s += `\n\nOPTIONS:\n${tabulate(flags.map(flagColumns), "   ")}\n   `;
  return s + "\n";
}

/** `etcdctl member` (SubcommandHelpTemplate), newline-terminated. */
export function subcommandHelp(helpName: string, c: HelpCommand): string {
  const subs = c.subcommands ?? [];
  const commands = tabulate(subs.map((s) => [s.name, s.usage]), "   ");
  const [name, usage] = flagColumns({ names: ["help", "h"], type: "bool", usage: "show help" });
  return `NAME:\n   ${helpName} - ${c.description ?? c.usage}\n\nUSAGE:\n   ${helpName} command [command options] [arguments...]\n\nCOMMANDS:\n${commands}\n\nOPTIONS:\n   ${name}  ${usage}\n   \n`;
}

/** `etcdctl` without arguments or with `--help` (AppHelpTemplate), newline-terminated. */
export function appHelp(version: string, usage: string, commands: HelpCommand[], globals: V2Flag[]): string {
  const cmdRows: [string, string][] = [...commands.map((c): [string, string] => [c.name, c.usage]), ["help, h", "Shows a list of commands or help for one command"]];
  const flagRows = [
    ...globals.map(flagColumns),
    flagColumns({ names: ["help", "h"], type: "bool", usage: "show help" }),
    flagColumns({ names: ["version", "v"], type: "bool", usage: "print the version" }),
  ];
  return (
    `NAME:\n   etcdctl - ${usage}\n\nUSAGE:\n   etcdctl [global options] command [command options] [arguments...]\n\n` +
    `VERSION:\n   ${version}\n\nCOMMANDS:\n${tabulate(cmdRows, "   ")}\n\nGLOBAL OPTIONS:\n${tabulate(flagRows, "   ")}\n`
  );
}
