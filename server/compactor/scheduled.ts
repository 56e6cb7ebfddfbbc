/** The state both auto-compaction schedules (periodic.ts, revision.ts) share. */
import type { EnvTimer } from "../node/env.ts";
import type { Compactor } from "./compactor.ts";

/**
 * The pause/resume/stop state both schedules share: `paused` skips compactions while this member
 * does not lead, `stopped` ends the schedule, `timer` is the pending wait (on the member's env).
 */
export abstract class ScheduledCompactor implements Compactor {
  protected paused = false;
  protected stopped = false;
  protected timer: EnvTimer | undefined;

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
