/**
 * Command-line parsing: cac does the command matching, option collection and help text; a
 * pflag-compatible pre-pass makes the input unambiguous for it first.
 *
 * Why the pre-pass: cac's parser (mri) turns numeric-looking values into numbers (`--lease 1e5`
 * would become 100000, key `007` would become 7) and lets a bool flag swallow the next argument.
 * etcdctl (cobra/pflag) does neither, and also has rules cac lacks: unique-prefix command names
 * (`memb list`), shorthand clusters (`-wjson`), `--flag=value` for bools, and its own error texts
 * (`unknown flag: --x`, `flag needs an argument: --limit`). So before cac sees the arguments, every
 * flag is rewritten to `--long-name=value` (bools as `true`/`false`), and every value and
 * positional argument gets a one-character marker that keeps mri from converting it; the marker is
 * removed when reading cac's result.
 */
import { cac } from "cac";
import type { CommandSpec } from "./commands/types.ts";
import { CtlError, ExitCode, flagError } from "./errors.ts";
import { FlagSet, parseFlagValue, type FlagSpec } from "./flags.ts";
import { goQuote } from "./go/strconv.ts";
import { defaultText } from "./cobra-usage.ts";

/** Prefix that keeps mri from coercing a string (no number starts with U+0001). */
const MARK = "\u0001";

const HELP_FLAG: FlagSpec = { name: "help", short: "h", type: "bool", default: false, description: "help" };

/** A flag error (unknown flag, missing or invalid value) once the command was identified. */
export class CommandFlagError extends CtlError {
  /** @param spec the command whose flags were wrong */
  constructor(
    readonly spec: CommandSpec,
    cause: CtlError,
  ) {
    super(cause.exitCode, cause.message, cause.verbatim);
  }
}

/** Result of parsing one command line. */
export type ParseResult =
  | { kind: "run"; spec: CommandSpec; args: string[]; flags: FlagSet }
  /** Help was requested or a command group was named without a subcommand: print `text`, exit 0. */
  | { kind: "help"; text: string };

/** The flags a command accepts, its own first (group flags, globals). */
export function commandFlags(spec: CommandSpec, globals: FlagSpec[]): FlagSpec[] {
  return [...spec.flags, ...(spec.inheritedFlags ?? []), ...globals];
}

interface FlagTable {
  long: Map<string, FlagSpec>;
  short: Map<string, FlagSpec>;
}

function flagTable(specs: FlagSpec[]): FlagTable {
  const table: FlagTable = { long: new Map(), short: new Map() };
  for (const s of [...specs, HELP_FLAG]) {
    table.long.set(s.name, s);
    if (s.short) table.short.set(s.short, s);
  }
  return table;
}

/** One token classified the pflag way. */
type Token =
  | { kind: "positional"; text: string }
  | { kind: "flag"; spec: FlagSpec; text: string; shown: string }
  | { kind: "dashdash" };

/**
 * Splits arguments the way pflag does. With `strict`, unknown flags and missing values throw
 * pflag's errors; otherwise unknown flags are skipped (used to find the command name first).
 */
function tokenize(argv: string[], table: FlagTable, strict: boolean): Token[] {
  const tokens: Token[] = [];
  const unknown = (msg: string) => {
    if (strict) throw flagError(msg);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      tokens.push({ kind: "dashdash" });
      for (const rest of argv.slice(i + 1)) tokens.push({ kind: "positional", text: rest });
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = table.long.get(name);
      if (!spec) {
        unknown(`unknown flag: --${name}`);
        continue;
      }
      let text = eq < 0 ? undefined : arg.slice(eq + 1);
      if (text === undefined && spec.type !== "bool") {
        if (i + 1 >= argv.length) {
          unknown(`flag needs an argument: --${name}`);
          continue;
        }
        text = argv[++i];
      }
      tokens.push({ kind: "flag", spec, text: text ?? "true", shown: `--${name}` });
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const letters = arg.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const c = letters[j]!;
        const spec = table.short.get(c);
        if (!spec) {
          unknown(`unknown shorthand flag: '${c}' in ${arg}`);
          break;
        }
        const shown = `-${c}, --${spec.name}`;
        const attached = letters.slice(j + 1);
        if (spec.type === "bool") {
          if (attached.startsWith("=")) {
            tokens.push({ kind: "flag", spec, text: attached.slice(1), shown });
            break;
          }
          tokens.push({ kind: "flag", spec, text: "true", shown });
          continue;
        }
        let text: string | undefined = attached.startsWith("=") ? attached.slice(1) : attached;
        if (text === "") {
          if (i + 1 >= argv.length) {
            unknown(`flag needs an argument: '${c}' in ${arg}`);
            break;
          }
          text = argv[++i];
        }
        tokens.push({ kind: "flag", spec, text: text!, shown });
        break;
      }
      continue;
    }
    tokens.push({ kind: "positional", text: arg });
  }
  return tokens;
}

/** cobra's prefix matching: the exact name, else the only name starting with `typed`. */
function matchName(typed: string, names: string[]): string | undefined {
  if (names.includes(typed)) return typed;
  const candidates = names.filter((n) => n.startsWith(typed));
  return candidates.length === 1 ? candidates[0] : undefined;
}

function cacOptionName(spec: FlagSpec, name = spec.name): string {
  const long = `--${name}` + (spec.type === "bool" ? "" : ` <${name}>`);
  return spec.short ? `-${spec.short}, ${long}` : long;
}

/**
 * The name a flag has in the argument list handed to cac for parsing. cac (mri) reads `--no-x`
 * as "x is false", so a flag really called `no-password` travels under another name.
 */
function parseName(spec: FlagSpec): string {
  return spec.name.startsWith("no-") ? `x-${spec.name}` : spec.name;
}

/** Help text of a flag: description and pflag-style default. */
function describe(spec: FlagSpec): string {
  return spec.description + defaultText(spec);
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function groupHelp(program: string, group: string, subs: CommandSpec[]): string {
  const lines = subs.map((s) => `  ${s.path[1]!.padEnd(12)}${s.description}`);
  return `Usage:\n  ${program} ${group} <subcommand> [flags]\n\nAvailable Commands:\n${lines.join("\n")}\n`;
}

/**
 * Parses `argv` (without the runtime and script entries) against the commands.
 * @param program name used in messages (`etcdctl`, or `txn` for txn operation lines)
 * @param globals flags accepted by every command
 * @throws CtlError exit 1 with cobra/pflag's messages (`unknown command "x" for "etcdctl"`,
 *   `unknown flag: --x`, `flag needs an argument: --x`, `invalid argument ...`)
 */
export function parseCommandLine(argv: string[], commands: CommandSpec[], globals: FlagSpec[], program: string): ParseResult {
  const allFlags = [...globals, ...commands.flatMap((c) => [...c.flags, ...(c.inheritedFlags ?? [])])];
  const positionals = tokenize(argv, flagTable(allFlags), false).filter((t) => t.kind === "positional");
  const topNames = [...new Set(commands.map((c) => c.path[0]!))];

  const cli = cac(program);
  cli.help();
  for (const g of globals) cli.option(cacOptionName(g), describe(g));
  if (positionals.length === 0) return { kind: "help", text: helpText(cli, commands, topNames) };

  const top = matchName(positionals[0]!.text, topNames);
  if (top === undefined) {
    const msg = `unknown command ${goQuote(positionals[0]!.text)} for ${goQuote(program)}`;
    throw new CtlError(ExitCode.Error, `Error: ${msg}\nRun '${program} --help' for usage.\nError: ${msg}`, true);
  }
  const family = commands.filter((c) => c.path[0] === top);
  let spec = family.find((c) => c.path.length === 1);
  if (!spec) {
    const sub = positionals[1] ? matchName(positionals[1].text, family.map((c) => c.path[1]!)) : undefined;
    spec = family.find((c) => c.path[1] === sub);
    if (!spec) return { kind: "help", text: groupHelp(program, top, family) };
  }

  try {
    return parseForCommand(cli, spec, argv, globals);
  } catch (e) {
    throw e instanceof CtlError && !(e instanceof CommandFlagError) ? new CommandFlagError(spec, e) : e;
  }
}

/** Second phase of {@link parseCommandLine}: strict pflag pass for `spec`, then cac. */
function parseForCommand(cli: ReturnType<typeof cac>, spec: CommandSpec, argv: string[], globals: FlagSpec[]): ParseResult {
  // Strict pass with exactly this command's flags, rewriting into the unambiguous form.
  const specs = commandFlags(spec, globals);
  const rewritten: string[] = [];
  let pathTokens = spec.path.length;
  let help = false;
  for (const t of tokenize(argv, flagTable(specs), true)) {
    if (t.kind === "dashdash") rewritten.push("--");
    else if (t.kind === "positional") {
      // The command's own name tokens go to cac unmarked (and fully spelled) so it can match them.
      rewritten.push(pathTokens > 0 ? spec.path[spec.path.length - pathTokens--]! : MARK + t.text);
    } else if (t.spec === HELP_FLAG) help = true;
    else {
      // Bools are validated now (pflag rejects `--prefix=maybe` while parsing); other values later.
      const value = t.spec.type === "bool" ? String(parseFlagValue(t.spec, t.text, t.shown)) : MARK + t.text;
      rewritten.push(`--${parseName(t.spec)}=${value}`);
    }
  }

  const command = cli.command(`${spec.path[0]} [...args]`, spec.description).usage(`${spec.path.join(" ")} ${spec.usage}`);
  const own = [...spec.flags, ...(spec.inheritedFlags ?? [])];
  if (help) {
    for (const f of own) command.option(cacOptionName(f), describe(f));
    return { kind: "help", text: captureHelp(() => cli.parse(["", "", spec.path[0]!, "--help"], { run: false })) };
  }
  for (const f of own) command.option(cacOptionName(f, parseName(f)), describe(f));

  const parsed = cli.parse(["", "", ...rewritten], { run: false });
  const unmark = (v: unknown) => (typeof v === "string" && v.startsWith(MARK) ? v.slice(1) : String(v));
  const flags = new FlagSet(specs);
  for (const f of specs) {
    const raw = parsed.options[camelCase(parseName(f))];
    if (raw === undefined) continue;
    for (const v of [raw].flat()) flags.setFromText(f.name, unmark(v), `--${f.name}`);
  }
  const args = [...parsed.args, ...((parsed.options["--"] as string[] | undefined) ?? [])].map(unmark);
  return { kind: "run", spec, args: args.slice(spec.path.length - 1), flags };
}

/** Runs `fn` while capturing what cac prints with `console.info`. */
function captureHelp(fn: () => void): string {
  const original = console.info;
  let text = "";
  console.info = (...parts: unknown[]) => {
    text += parts.join(" ") + "\n";
  };
  try {
    fn();
  } finally {
    console.info = original;
  }
  return text;
}

function helpText(cli: ReturnType<typeof cac>, commands: CommandSpec[], topNames: string[]): string {
  for (const name of topNames) {
    const family = commands.filter((c) => c.path[0] === name);
    const usage = family.length === 1 && family[0]!.path.length === 1 ? `${name} ${family[0]!.usage}` : `${name} <subcommand>`;
    const description = family.find((c) => c.groupDescription)?.groupDescription ?? family[0]!.description;
    cli.command(usage.trim(), description);
  }
  return captureHelp(() => cli.outputHelp());
}
