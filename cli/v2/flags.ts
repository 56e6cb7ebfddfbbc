/**
 * Command-line flags of etcdctl's v2 mode, parsed as etcdctl 3.4 parses them: urfave/cli v1 on
 * top of Go's `flag` package (not cobra/pflag as in v3 mode). Rules reproduced:
 * - one or two dashes are the same (`-ttl 5`, `--ttl=5`); a bool takes a value only as `--x=false`;
 * - global flags come before the command name, parsing stops at the first non-flag;
 * - a command's flags may follow its arguments: urfave's `reorderArgs` moves every known flag
 *   (and the argument right after it, when that is not a flag) in front, keeps `--` and what
 *   follows at the end;
 * - Go's error texts: `flag provided but not defined: -x`, `flag needs an argument: -x`,
 *   `invalid value "abc" for flag -ttl: parse error`, `bad flag syntax: ---x`.
 *
 * cac (used by the v3 mode) is not used here: its parser has none of these rules (no stop at the
 * first argument, no reordering, pflag-style errors), so a pre-pass would have to do all the work.
 * Sources: github.com/urfave/cli `command.go` (reorderArgs), Go `flag/flag.go` (parseOne).
 */
import { goParseDuration } from "../go/duration.ts";
import { goParseBool, goParseInt, goQuote, GoSyntaxError } from "../go/strconv.ts";

/** Value kinds of etcdctl v2 flags; durations in milliseconds, ints as JS numbers (Go `int`). */
export type V2FlagType = "bool" | "string" | "int" | "duration";

/** One urfave `cli.XxxFlag`. */
export interface V2Flag {
  /** Names, long first: `["output", "o"]` (urfave's `Name: "output, o"`). */
  names: string[];
  type: V2FlagType;
  /** Default (`Value`); bools false, ints 0, strings "" unless given. */
  value?: string | number | boolean;
  usage: string;
}

/** Parsed flag values of one level (global or command), by every name of each flag. */
export class V2FlagValues {
  private readonly values = new Map<string, string | number | boolean>();

  constructor(readonly flags: V2Flag[]) {
    for (const f of flags) this.values.set(f.names[0]!, defaultOf(f));
  }

  private find(name: string): V2Flag | undefined {
    return this.flags.find((f) => f.names.includes(name));
  }

  /** Sets a flag from its text (Go's `flag.Value.Set`); throws Go's error message as Error. */
  set(name: string, text: string): void {
    const f = this.find(name)!;
    this.values.set(f.names[0]!, parseValue(f, name, text));
  }

  bool(name: string): boolean {
    return this.values.get(name) as boolean;
  }
  string(name: string): string {
    return this.values.get(name) as string;
  }
  int(name: string): number {
    return this.values.get(name) as number;
  }
  /** A duration flag in milliseconds. */
  durationMs(name: string): number {
    return this.values.get(name) as number;
  }
}

function defaultOf(f: V2Flag): string | number | boolean {
  if (f.value !== undefined) return f.value;
  return f.type === "bool" ? false : f.type === "string" ? "" : 0;
}

const INT_MAX = 2n ** 63n - 1n;

function parseValue(f: V2Flag, name: string, text: string): string | number | boolean {
  try {
    switch (f.type) {
      case "bool":
        return goParseBool(text);
      case "string":
        return text;
      case "int": {
        const v = goParseInt(text, 0);
        if (v > INT_MAX) throw new GoSyntaxError("value out of range");
        return Number(v);
      }
      case "duration":
        return goParseDuration(text);
    }
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    // Go's flag package reduces every parse failure to errParse or errRange.
    const reason = /out of range/.test(e.message) ? "value out of range" : "parse error";
    if (f.type === "bool") throw new Error(`invalid boolean value ${goQuote(text)} for -${name}: ${reason}`);
    throw new Error(`invalid value ${goQuote(text)} for flag -${name}: ${reason}`);
  }
}

/** Result of a Go `flag.FlagSet.Parse`: the values and the arguments left (`set.Args()`). */
export interface ParsedFlags {
  values: V2FlagValues;
  args: string[];
  /** `-h`/`--help` was given (urfave's help flag). */
  help: boolean;
}

/** The `--help, -h` flag urfave adds to every level. */
export const HELP_FLAG: V2Flag = { names: ["help", "h"], type: "bool", usage: "show help" };

/**
 * Go's `flag.FlagSet.Parse(args)` with `flags` plus the help flag.
 * @throws Error with Go's message (`flag provided but not defined: -x`, ...)
 */
export function goFlagParse(flags: V2Flag[], args: string[]): ParsedFlags {
  const values = new V2FlagValues([...flags, HELP_FLAG]);
  const all = [...flags, HELP_FLAG];
  let i = 0;
  for (; i < args.length; i++) {
    const s = args[i]!;
    if (s.length < 2 || s[0] !== "-") break;
    let dashes = 1;
    if (s[1] === "-") {
      dashes++;
      if (s.length === 2) {
        i++;
        break;
      }
    }
    let name = s.slice(dashes);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") throw new Error(`bad flag syntax: ${s}`);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq > 0) [name, value] = [name.slice(0, eq), name.slice(eq + 1)];
    const flag = all.find((f) => f.names.includes(name));
    if (!flag) throw new Error(`flag provided but not defined: -${name}`);
    if (flag.type === "bool") {
      values.set(name, value ?? "true");
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= args.length) throw new Error(`flag needs an argument: -${name}`);
      value = args[++i]!;
    }
    values.set(name, value);
  }
  return { values, args: args.slice(i), help: values.bool("help") };
}

/** urfave's `argIsFlag`: `-x`, `--x`, `--x=v` naming one of `flags`. */
function argIsFlag(flags: V2Flag[], arg: string): boolean {
  if (arg === "-" || arg === "--" || !arg.startsWith("-")) return false;
  let name = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
  name = name.split("=")[0]!;
  return flags.some((f) => f.names.includes(name));
}

/** urfave's `reorderArgs`: known flags (and the value after each) first, the rest after. */
export function reorderArgs(flags: V2Flag[], args: string[]): string[] {
  const reordered: string[] = [];
  let remaining: string[] = [];
  let nextMayBeValue = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (nextMayBeValue && !argIsFlag(flags, arg)) {
      nextMayBeValue = false;
      reordered.push(arg);
    } else if (arg === "--") {
      remaining = ["--", ...remaining, ...args.slice(i + 1)];
      break;
    } else if (argIsFlag(flags, arg)) {
      reordered.push(arg);
      nextMayBeValue = !arg.includes("=");
    } else {
      remaining.push(arg);
    }
  }
  return [...reordered, ...remaining];
}
