/**
 * The JSON log lines Go etcdctl's zap loggers write to stderr, for commands that log as
 * etcdctl does (`snapshot save|restore`). etcdctl's own logger (zap.NewProduction) writes `ts`
 * as seconds since the epoch (a float); clientv3's logger writes it as ISO 8601 with
 * milliseconds. Fields follow `level`, `ts`, `caller` and `msg` in the given order.
 */

/** One zap line (without the newline). `now` is the wall clock in ms since the epoch. */
export function zapLine(
  style: "epoch" | "iso",
  caller: string,
  msg: string,
  fields: Record<string, unknown>,
  now: number,
): string {
  const ts = style === "epoch" ? String(now / 1000) : JSON.stringify(new Date(now).toISOString());
  let s = `{"level":"info","ts":${ts},"caller":${JSON.stringify(caller)},"msg":${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(fields)) s += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  return s + "}";
}
