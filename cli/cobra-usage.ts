/**
 * cobra's default usage text for a command (`Usage:` line and pflag's `FlagUsages` table), which
 * etcdctl prints on stderr when a txn operation line has a bad flag (its txn parser runs put/get/del
 * as cobra commands under an unnamed root).
 */
import type { CommandSpec } from "./commands/types.ts";
import type { FlagSpec, FlagValue } from "./flags.ts";
import { goDurationString } from "./go/duration.ts";
import { goQuote } from "./go/strconv.ts";

/** pflag's placeholder name per value type (`int64` flags show as `int`). */
const VAR_NAMES: Record<FlagSpec["type"], string> = {
  bool: "",
  string: "string",
  int64: "int",
  duration: "duration",
  stringSlice: "strings",
};

function isZero(v: FlagValue): boolean {
  return v === false || v === "" || v === 0n || v === 0 || (Array.isArray(v) && v.length === 0);
}

/** pflag's ` (default x)` suffix; empty when the default is the type's zero value. */
export function defaultText(spec: FlagSpec): string {
  const v = spec.default;
  if (isZero(v)) return "";
  if (spec.type === "string") return ` (default ${goQuote(v as string)})`;
  if (spec.type === "duration") return ` (default ${goDurationString(BigInt(Math.round((v as number) * 1e6)))})`;
  if (spec.type === "stringSlice") return ` (default [${(v as string[]).join(",")}])`;
  return ` (default ${String(v)})`;
}

/** pflag's `FlagUsages`: one aligned line per flag, sorted by name, defaults appended. */
export function flagUsages(specs: FlagSpec[]): string {
  const rows = [...specs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => {
      const names = s.short ? `  -${s.short}, --${s.name}` : `      --${s.name}`;
      const varName = VAR_NAMES[s.type];
      return { left: varName ? `${names} ${varName}` : names, right: s.description + defaultText(s) };
    });
  const width = Math.max(...rows.map((r) => r.left.length + 1));
  return rows.map((r) => `${r.left} ${" ".repeat(width - r.left.length)} ${r.right}`).join("\n").trimEnd();
}

/**
 * cobra's `UsageString()` for a runnable command without subcommands whose parent has an empty
 * name, followed by the blank line of `Println`.
 */
export function cobraUsage(spec: CommandSpec): string {
  const name = spec.path[spec.path.length - 1];
  const help: FlagSpec = { name: "help", short: "h", type: "bool", default: false, description: `help for ${name}` };
  return `Usage:\n   ${name} ${spec.usage} [flags]\n\nFlags:\n${flagUsages([...spec.flags, help])}\n\n`;
}
