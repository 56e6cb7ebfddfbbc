/**
 * Revision auto-compaction (etcd 3.4 v3compactor/revision.go): every 5 minutes, compacts at the
 * current revision minus `retention`, unless that is not positive or was compacted last time.
 * A failure is retried at the next 5-minute tick.
 */
import { goDurationString } from "../../cli/go/duration.ts";
import { errorText, isCompactedError, type CompactorDeps } from "./compactor.ts";
import { ScheduledCompactor } from "./scheduled.ts";

/** Interval between compaction attempts, ms (etcd's revInterval, 5 min). */
export const REVISION_INTERVAL_MS = 5 * 60 * 1000;

/** See the module doc. `retention` is a number of revisions. */
export class RevisionCompactor extends ScheduledCompactor {
  private prev = 0;

  constructor(
    private readonly retention: number,
    private readonly deps: CompactorDeps,
  ) {
    super();
  }

  /** Starts the 5-minute loop (etcd's Run). */
  run(): void {
    this.wait();
  }

  private wait(): void {
    if (!this.stopped) this.timer = this.deps.env.setTimeout(() => void this.tick(), REVISION_INTERVAL_MS);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const rev = this.deps.rev() - this.retention;
    if (this.paused || rev <= 0 || rev === this.prev) return this.wait();
    const { env, log } = this.deps;
    const start = env.monotonicMs();
    const fields = { revision: rev, "revision-compaction-retention": this.retention };
    log.info("starting auto revision compaction", fields);
    try {
      await this.deps.compact(rev);
      this.completed(rev, start);
    } catch (e) {
      if (isCompactedError(e)) this.completed(rev, start);
      else {
        log.warn("failed auto revision compaction", {
          ...fields,
          "retry-interval": goDurationString(BigInt(Math.round(REVISION_INTERVAL_MS * 1e6))),
          error: errorText(e),
        });
      }
    }
    this.wait();
  }

  private completed(rev: number, start: number): void {
    this.prev = rev;
    this.deps.log.info("completed auto revision compaction", {
      revision: rev,
      "revision-compaction-retention": this.retention,
      took: goDurationString(BigInt(Math.round((this.deps.env.monotonicMs() - start) * 1e6))),
    });
  }
}
