/**
 * Log-linear latency histogram (HDR-style): exact below 128 µs, then 64 buckets per power of two (≤ 1.6 % relative
 * error), up to 2^31 µs. Recording is allocation-free; histograms of several slices merge by adding counts.
 */

const EXACT = 128;
const SUB_BUCKETS = 64;
/** Number of buckets: 128 exact ones plus 64 for each power of two from 2^7 to 2^30. */
export const HISTOGRAM_BUCKETS = EXACT + SUB_BUCKETS * 25;

/** Bucket index of a latency in microseconds (clamped to [0, 2^31)). */
function bucketOf(micros: number): number {
  const v = micros <= 0 ? 0 : micros >= 0x7fffffff ? 0x7ffffffe : Math.round(micros);
  if (v < EXACT) return v;
  const shift = 31 - Math.clz32(v) - 6;
  return EXACT + (shift - 1) * SUB_BUCKETS + ((v >> shift) - SUB_BUCKETS);
}

/** Midpoint, in microseconds, of the values that fall into bucket `index`. */
function bucketMidpoint(index: number): number {
  if (index < EXACT) return index;
  const shift = Math.floor((index - EXACT) / SUB_BUCKETS) + 1;
  const m = ((index - EXACT) % SUB_BUCKETS) + SUB_BUCKETS;
  return ((m << shift) + ((m + 1) << shift) - 1) / 2;
}

/** A latency histogram; counts are plain numbers so it can cross the generator's IPC channel as an array. */
export class Histogram {
  /** Count per bucket. */
  readonly counts: Uint32Array;
  /** Number of recorded values. */
  total = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(HISTOGRAM_BUCKETS);
    if (counts) {
      this.counts.set(counts);
      for (let i = 0; i < counts.length; i++) this.total += counts[i]!;
    }
  }

  /** Records one latency given in milliseconds. */
  record(ms: number): void {
    this.counts[bucketOf(ms * 1000)]!++;
    this.total++;
  }

  /** Adds the counts of another histogram into this one. */
  merge(other: Histogram): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
  }

  /** The q-quantile (0 < q ≤ 1, e.g. 0.99) in milliseconds; NaN when empty. */
  quantileMs(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return bucketMidpoint(i) / 1000;
    }
    return NaN;
  }
}
