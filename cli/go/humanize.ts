/**
 * `github.com/dustin/go-humanize`'s `Bytes`: SI sizes such as `20 kB` or `1.2 MB`, as shown in the
 * `db size` column of `etcdctl endpoint status`.
 */

const SI_SIZES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/**
 * Go's `%.0f`: round half to even on the exact binary value (so 20.5 prints `20`), unlike
 * `Number.prototype.toFixed` which rounds half away from zero.
 */
function formatNoDecimals(v: number): string {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff > 0.5) return String(floor + 1);
  if (diff < 0.5) return String(floor);
  return String(floor % 2 === 0 ? floor : floor + 1);
}

/**
 * Bytes as go-humanize prints them: below 10 as `N B`; otherwise the value in the largest SI unit,
 * rounded to one decimal, printed with one decimal below 10 and none from 10 up.
 * @param size byte count (e.g. StatusResponse.dbSize)
 */
export function humanizeBytes(size: bigint | number): string {
  const s = Number(size);
  if (s < 10) return `${s} B`;
  const e = Math.floor(Math.log(s) / Math.log(1000));
  const suffix = SI_SIZES[e]!;
  const val = Math.floor((s / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${suffix}` : `${formatNoDecimals(val)} ${suffix}`;
}
