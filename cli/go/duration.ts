/**
 * Go `time.Duration` text: parsing flag values like `2s` / `500ms` (`time.ParseDuration`) and
 * printing elapsed times like `1.421555ms` (`Duration.String`, used by `endpoint health`).
 */
import { GoSyntaxError } from "./strconv.ts";

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Go's `time.ParseDuration`, returning milliseconds (fractional below 1 ms).
 * @throws GoSyntaxError `time: invalid duration "x"`, `time: missing unit in duration "5"`,
 *   `time: unknown unit "x" in duration "5x"` (Go 1.19 wording)
 */
export function goParseDuration(s: string): number {
  const quoted = `"${s}"`;
  let rest = s;
  let sign = 1;
  if (rest[0] === "-" || rest[0] === "+") {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new GoSyntaxError(`time: invalid duration ${quoted}`);
  let totalNs = 0;
  while (rest !== "") {
    const num = /^(\d*)(\.(\d*))?/.exec(rest)!;
    const intPart = num[1]!;
    const fracPart = num[3] ?? "";
    if (intPart === "" && fracPart === "") throw new GoSyntaxError(`time: invalid duration ${quoted}`);
    rest = rest.slice(num[0].length);
    const unit = /^[^0-9.]*/.exec(rest)![0];
    if (unit === "") throw new GoSyntaxError(`time: missing unit in duration ${quoted}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new GoSyntaxError(`time: unknown unit "${unit}" in duration ${quoted}`);
    rest = rest.slice(unit.length);
    totalNs += Number(`${intPart || "0"}.${fracPart || "0"}`) * scale;
  }
  return (sign * totalNs) / 1e6;
}

/** Digits of `v / 10^prec` after the decimal point, trailing zeros dropped (Go's `fmtFrac`). */
function fraction(v: bigint, prec: number): [string, bigint] {
  let digits = "";
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print ||= digit !== 0n;
    if (print) digits = digit.toString() + digits;
    v /= 10n;
  }
  return [print ? "." + digits : "", v];
}

/**
 * Go's `Duration.String` for a duration in nanoseconds: `0s`, `850ns`, `1.5µs`, `1.421555ms`,
 * `2.5s`, `1m30s`, `1h0m0s`.
 */
export function goDurationString(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1000n) out = `${u}ns`;
    else if (u < 1_000_000n) {
      const [frac, whole] = fraction(u, 3);
      out = `${whole}${frac}µs`;
    } else {
      const [frac, whole] = fraction(u, 6);
      out = `${whole}${frac}ms`;
    }
  } else {
    const [frac, secondsTotal] = fraction(u, 9);
    u = secondsTotal;
    out = `${u % 60n}${frac}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? "-" + out : out;
}
