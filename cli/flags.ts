/**
 * Typed command-line flags with pflag (cobra) semantics: value syntax per type, last occurrence
 * wins (string slices accumulate), and pflag's error texts such as
 * `invalid argument "abc" for "--limit" flag: strconv.ParseInt: parsing "abc": invalid syntax`.
 */
import { flagError } from "./errors.ts";
import { goParseDuration } from "./go/duration.ts";
import { goParseBool, goParseInt, goQuote, GoSyntaxError } from "./go/strconv.ts";

/** Value kinds used by etcdctl flags. Durations are held in milliseconds. */
export type FlagType = "bool" | "string" | "int64" | "duration" | "stringSlice";

/** A typed flag value: bool, string, int64 (bigint), duration (ms) or string slice. */
export type FlagValue = boolean | string | bigint | number | string[];

/** Declaration of one flag, like a cobra `Flags().XxxVar(...)` call. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `write-out`. */
  name: string;
  /** One-letter shorthand, e.g. `w`. */
  short?: string;
  type: FlagType;
  /** Value when neither the command line nor (for global flags) the environment sets it. */
  default: FlagValue;
  description: string;
}

/**
 * Parses one flag value from text.
 * @param shown how the flag is named in errors (`--limit`, or `-w, --write-out` when the shorthand was used)
 * @throws CtlError exit 1 with pflag's `invalid argument` message (see {@link flagError})
 */
export function parseFlagValue(spec: FlagSpec, text: string, shown = `--${spec.name}`): FlagValue {
  try {
    switch (spec.type) {
      case "bool":
        return goParseBool(text);
      case "string":
        return text;
      case "int64":
        return goParseInt(text, 0);
      case "duration":
        return goParseDuration(text);
      case "stringSlice":
        return text === "" ? [] : text.split(",");
    }
  } catch (e) {
    if (!(e instanceof GoSyntaxError)) throw e;
    throw flagError(`invalid argument ${goQuote(text)} for ${goQuote(shown)} flag: ${e.message}`);
  }
}

/** Parsed flags of one invocation: typed values plus which ones the user set explicitly. */
export class FlagSet {
  private readonly values = new Map<string, FlagValue>();
  /** Names of flags set on the command line (pflag's `Changed`). */
  readonly changed = new Set<string>();

  /** @param specs every flag the command accepts (its own and the global ones) */
  constructor(readonly specs: FlagSpec[]) {
    for (const s of specs) this.values.set(s.name, s.default);
  }

  /** Looks up a declaration by long name. */
  spec(name: string): FlagSpec | undefined {
    return this.specs.find((s) => s.name === name);
  }

  /**
   * Applies a value given on the command line (string slices append, others replace).
   * @param text the raw text; for bools `true`/`false`
   * @param shown the flag as the user wrote it, for error messages
   */
  setFromText(name: string, text: string, shown?: string): void {
    const spec = this.spec(name);
    if (!spec) throw new Error(`undeclared flag ${name}`);
    const value = parseFlagValue(spec, text, shown);
    if (spec.type === "stringSlice" && this.changed.has(name)) {
      this.values.set(name, [...(this.values.get(name) as string[]), ...(value as string[])]);
    } else {
      this.values.set(name, value);
    }
    this.changed.add(name);
  }

  /** Replaces a value without marking it changed (environment variables, `ETCDCTL_*`). */
  setQuietly(name: string, value: FlagValue): void {
    this.values.set(name, value);
  }

  /** A bool flag's value. */
  bool(name: string): boolean {
    return this.values.get(name) as boolean;
  }
  /** A string flag's value. */
  string(name: string): string {
    return this.values.get(name) as string;
  }
  /** An int64 flag's value. */
  int64(name: string): bigint {
    return this.values.get(name) as bigint;
  }
  /** A duration flag's value in milliseconds. */
  durationMs(name: string): number {
    return this.values.get(name) as number;
  }
  /** A string-slice flag's value. */
  strings(name: string): string[] {
    return this.values.get(name) as string[];
  }
}
