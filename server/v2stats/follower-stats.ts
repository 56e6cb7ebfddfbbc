/**
 * The per-follower counters of `/v2/stats/leader` (etcd's etcdserver/api/v2stats/leader.go
 * FollowerStats): every MsgApp the leader writes to a follower counts as a success with the
 * time its write took, in ms (etcd: the msgappv2 stream encoder's write, or a pipeline POST's
 * round trip); every MsgApp that never reached it counts as a failure (etcd: a failed pipeline
 * POST; here a MsgApp dropped by the peer's sender, see server/transport/remote-peer.ts).
 */

/** etcd's initial `minimum` before any success (`1 << 63` as a float64), ms. */
const NO_MINIMUM_MS = 2 ** 63;

/** Latency statistics and counts of the appends sent to one follower. */
export class FollowerStats {
  private currentMs = 0;
  private averageMs = 0;
  private averageSquareMs2 = 0;
  private standardDeviationMs = 0;
  private minimumMs = NO_MINIMUM_MS;
  private maximumMs = 0;
  private successes = 0;
  private failures = 0;

  /** One MsgApp written to the follower in `ms` (etcd's FollowerStats.Succ). */
  succeeded(ms: number): void {
    // etcd's latency is a whole number of ns in ms (float64(d) / 1e6): round the same way.
    ms = Math.round(ms * 1e6) / 1e6;
    const total = this.successes * this.averageMs;
    const totalSquare = this.successes * this.averageSquareMs2;
    this.successes++;
    this.currentMs = ms;
    if (ms > this.maximumMs) this.maximumMs = ms;
    if (ms < this.minimumMs) this.minimumMs = ms;
    this.averageMs = (total + ms) / this.successes;
    this.averageSquareMs2 = (totalSquare + ms * ms) / this.successes;
    // sqrt(avg(x^2) - avg(x)^2); rounding can make the difference slightly negative (Go: NaN, which
    // encoding/json refuses): 0 then.
    this.standardDeviationMs = Math.sqrt(Math.max(0, this.averageSquareMs2 - this.averageMs * this.averageMs));
  }

  /** `n` MsgApp that did not reach the follower (etcd's FollowerStats.Fail). */
  failed(n = 1): void {
    this.failures += n;
  }

  /** Successes and failures so far. */
  get counts(): { success: number; fail: number } {
    return { success: this.successes, fail: this.failures };
  }

  /**
   * etcd's JSON: `{"latency":{"current":..,"average":..,"standardDeviation":..,"minimum":..,"maximum":..},"counts":{"fail":..,"success":..}}`,
   * latencies in ms. JS's shortest number text equals Go's encoding/json float64 text (same
   * exponent thresholds, 1e-6 and 1e21).
   */
  json(): string {
    return (
      `{"latency":{"current":${this.currentMs},"average":${this.averageMs},"standardDeviation":${this.standardDeviationMs},` +
      `"minimum":${this.minimumMs},"maximum":${this.maximumMs}},"counts":{"fail":${this.failures},"success":${this.successes}}}`
    );
  }
}
