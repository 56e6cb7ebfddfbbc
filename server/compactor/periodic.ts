/**
 * Periodic auto-compaction (etcd 3.4 v3compactor/periodic.go): samples the revision every tenth
 * of min(period, 1 h) and keeps period/interval + 1 samples; once `period` has passed since the
 * start, compacts at the oldest sample, then every min(period, 1 h) after the last success. A
 * failure is retried a sampling interval later. Example, period 1 h: samples every 6 min, the
 * first compaction after 1 h at the revision of the start, then hourly at the revision sampled
 * 66 min before (etcd's window holds one sample more than the period: its comment says "the rev
 * at pc.period ago", its code keeps one more, and we keep what the code does).
 */
import { goDurationString } from "../../cli/go/duration.ts";
import { errorText, isCompactedError, type CompactorDeps } from "./compactor.ts";
import { ScheduledCompactor } from "./scheduled.ts";

const HOUR_NS = 3600e9;
/** Samples per compaction interval (etcd's retryDivisor). */
const RETRY_DIVISOR = 10;

/** See the module doc. `periodNs` is the retention, nanoseconds. */
export class PeriodicCompactor extends ScheduledCompactor {
  private readonly compactIntervalMs: number;
  private readonly retryIntervalMs: number;
  /** Samples kept: the one `period` ago is revs[0]. */
  private readonly retentions: number;
  private revs: number[] = [];
  private lastSuccessMs = 0;
  private baseIntervalMs: number;

  constructor(
    private readonly periodNs: number,
    private readonly deps: CompactorDeps,
  ) {
    super();
    const itvNs = Math.min(periodNs, HOUR_NS);
    this.compactIntervalMs = itvNs / 1e6;
    this.retryIntervalMs = itvNs / RETRY_DIVISOR / 1e6;
    this.retentions = Math.floor(periodNs / (itvNs / RETRY_DIVISOR)) + 1;
    this.baseIntervalMs = periodNs / 1e6;
  }

  /** Starts sampling (etcd's Run). */
  run(): void {
    this.lastSuccessMs = this.deps.env.monotonicMs();
    this.sampleAndWait();
  }

  /** Records the current revision and waits a sampling interval. */
  private sampleAndWait(): void {
    if (this.stopped) return;
    this.revs.push(this.deps.rev());
    if (this.revs.length > this.retentions) this.revs = this.revs.slice(1);
    this.timer = this.deps.env.setTimeout(() => void this.tick(), this.retryIntervalMs);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { env, log } = this.deps;
    if (this.paused || env.monotonicMs() - this.lastSuccessMs < this.baseIntervalMs) return this.sampleAndWait();
    // The first compaction waits the whole period; later ones come every compact interval.
    if (this.baseIntervalMs === this.periodNs / 1e6) this.baseIntervalMs = this.compactIntervalMs;
    const rev = this.revs[0]!;
    const period = goDurationString(BigInt(Math.round(this.periodNs)));
    log.info("starting auto periodic compaction", { revision: rev, "compact-period": period });
    try {
      await this.deps.compact(rev);
      this.completed(rev, period);
    } catch (e) {
      if (isCompactedError(e)) this.completed(rev, period);
      else {
        log.warn("failed auto periodic compaction", {
          revision: rev,
          "compact-period": period,
          "retry-interval": goDurationString(BigInt(Math.round(this.retryIntervalMs * 1e6))),
          error: errorText(e),
        });
      }
    }
    this.sampleAndWait();
  }

  private completed(rev: number, period: string): void {
    const now = this.deps.env.monotonicMs();
    this.deps.log.info("completed auto periodic compaction", {
      revision: rev,
      "compact-period": period,
      took: goDurationString(BigInt(Math.round((now - this.lastSuccessMs) * 1e6))),
    });
    this.lastSuccessMs = now;
  }
}
