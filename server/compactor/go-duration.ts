/**
 * Go's `time.Duration` text (time/format.go): {@link parseGoDuration} as `time.ParseDuration`
 * reads `--auto-compaction-retention` (`1h30m`, `5m`, `1.5h`, `300ms`), with Go's error texts,
 * and {@link formatGoDuration} as `Duration.String()` prints durations in etcd's zap logs
 * (`2s`, `1h0m0s`, `2.007962116s`, `7.591µs`).
 */

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * Parses a Go duration into nanoseconds. Throws an Error with Go's text:
 * `time: invalid duration "<s>"`, `time: missing unit in duration "<s>"`,
 * `time: unknown unit "<u>" in duration "<s>"`.
 */
export function parseGoDuration(s: string): number {
  const quoted = JSON.stringify(s);
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === "" || m[0] === "." || (m[1] === "" && (m[2] ?? "") === "")) throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(m[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === "") throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    rest = rest.slice(unit.length);
    total += Number(`${m[1] || "0"}.${m[2] || "0"}`) * scale;
  }
  if (total > 9223372036854775807) throw new Error(`time: invalid duration ${quoted}`);
  return sign * Math.round(total);
}

/** Go's `Duration.String()` of `ns` nanoseconds. */
export function formatGoDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    // Below a second: one unit with a fraction (ns, µs, ms).
    const [unit, scale] = u < 1e3 ? ["ns", 1] : u < 1e6 ? ["µs", 1e3] : ["ms", 1e6];
    out = `${trimFraction(u, scale as number)}${unit}`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const s = trimFraction(u, 1e9);
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

/** `v / scale` with the fraction's trailing zeros removed (integer arithmetic, as Go's fmtFrac). */
function trimFraction(v: number, scale: number): string {
  const whole = Math.floor(v / scale);
  const frac = v - whole * scale;
  if (frac === 0) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(frac).padStart(digits, "0").replace(/0+$/, "")}`;
}
