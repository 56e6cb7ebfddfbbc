/**
 * Callers waiting for the member's applied index to reach a log index: etcd's `applyWait`
 * (pkg/wait.WaitTime, triggered in etcdserver/server.go applyAll), used by linearizable reads
 * after their ReadIndex and by simple tokens naming an entry not applied here yet
 * (auth/simple_token.go isValidSimpleToken).
 *
 * A wait may have a deadline. All deadlines share one timer, armed for the earliest of them, so
 * a burst of bounded waits costs one list entry each and no timer each.
 */
import type { EnvTimer, MemberEnv } from "./env.ts";

interface Waiter {
  index: number;
  /** Monotonic ms after which the wait gives up; Infinity: never. */
  deadlineMs: number;
  resolve: (reached: boolean) => void;
  reject: (e: unknown) => void;
}

/** The applied-index waiters of one member. */
export class AppliedWaiters {
  private waiters: Waiter[] = [];
  private timer: EnvTimer | undefined;
  /** Deadline the timer is armed for, monotonic ms. */
  private timerAtMs = Infinity;

  constructor(private readonly env: MemberEnv) {}

  /**
   * Resolves `true` once {@link release} was called with an applied index ≥ `index` (at once if
   * `applied` already is), or `false` when `timeoutMs` passed first (no timeout when absent).
   */
  wait(index: number, applied: number, timeoutMs?: number): Promise<boolean> {
    if (applied >= index) return Promise.resolve(true);
    const deadlineMs = timeoutMs === undefined ? Infinity : this.env.monotonicMs() + timeoutMs;
    return new Promise((resolve, reject) => {
      this.waiters.push({ index, deadlineMs, resolve, reject });
      if (deadlineMs < this.timerAtMs) this.arm(deadlineMs);
    });
  }

  /** The member applied up to `applied`: waiters at or below it resolve `true`. */
  release(applied: number): void {
    if (this.waiters.length === 0) return;
    this.settle((w) => (w.index <= applied ? true : undefined));
  }

  /** Rejects every waiter with `error` (the member stopped). */
  failAll(error: unknown): void {
    const all = this.waiters;
    this.waiters = [];
    this.disarm();
    for (const w of all) w.reject(error);
  }

  /** Number of waiters (tests, limits). */
  get size(): number {
    return this.waiters.length;
  }

  /** Resolves the waiters `outcome` decides for, keeps the rest, re-arms the timer for them. */
  private settle(outcome: (w: Waiter) => boolean | undefined): void {
    const still: Waiter[] = [];
    const done: [Waiter, boolean][] = [];
    let earliestMs = Infinity;
    for (const w of this.waiters) {
      const o = outcome(w);
      if (o === undefined) {
        still.push(w);
        earliestMs = Math.min(earliestMs, w.deadlineMs);
      } else done.push([w, o]);
    }
    this.waiters = still;
    if (earliestMs !== this.timerAtMs) {
      this.disarm();
      if (earliestMs !== Infinity) this.arm(earliestMs);
    }
    for (const [w, o] of done) w.resolve(o);
  }

  private arm(atMs: number): void {
    this.timer?.cancel();
    this.timerAtMs = atMs;
    this.timer = this.env.setTimeout(() => {
      this.timer = undefined;
      this.timerAtMs = Infinity;
      const now = this.env.monotonicMs();
      this.settle((w) => (w.deadlineMs <= now ? false : undefined));
    }, Math.max(0, atMs - this.env.monotonicMs()));
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }
}
