/**
 * The simulated world's time: one queue of tasks ordered by (time, sequence), run one at a time
 * by {@link SimScheduler.runUntil}; after each task every promise continuation it caused runs
 * (a turn of the real event loop) before the next task, so members, network and clients
 * interleave only where the queue says, the same way for the same seed. Each member gets a
 * {@link SimEnv} (server/node/env.ts MemberEnv) whose timers and immediates are tasks owned by
 * that member: a crash cancels them all at once.
 */
import { Prng } from "../raft/prng.ts";
import type { EnvTimer, MemberEnv } from "../node/env.ts";

/** Wall-clock time at the simulation's start, epoch ms. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

interface Task {
  at: number;
  seq: number;
  fn: () => void;
  /** The owner's generation when queued; the task is dropped if the owner crashed since. */
  owner: Owner | undefined;
  gen: number;
  cancelled: boolean;
}

/** Something whose tasks die with it (a member process). */
export interface Owner {
  gen: number;
}

/** A binary heap of tasks by (at, seq). */
class TaskHeap {
  private readonly items: Task[] = [];

  get size(): number {
    return this.items.length;
  }

  push(t: Task): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  peek(): Task | undefined {
    return this.items[0];
  }

  pop(): Task | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Task, b: Task): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A turn of the real event loop: every queued promise continuation runs. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** The simulated clock and task queue. */
export class SimScheduler {
  /** Simulated time, ms since the start. */
  now = 0;
  private seq = 0;
  private readonly heap = new TaskHeap();
  /** Tasks run so far. */
  steps = 0;
  /** Real I/O the simulated world waits for before its next task (snapshot files). */
  private held: Promise<unknown>[] = [];

  /**
   * Simulated time stands still until `p` settles: real asynchronous I/O (a snapshot image
   * written to or read from a file) completes between two tasks, so runs stay deterministic.
   */
  hold(p: Promise<unknown>): void {
    this.held.push(p.catch(() => {}));
  }

  /** Queues `fn` to run `delayMs` from now (for `owner`, if given: dropped once it crashed). */
  at(delayMs: number, fn: () => void, owner?: Owner): EnvTimer {
    const t: Task = { at: this.now + Math.max(0, delayMs), seq: this.seq++, fn, owner, gen: owner?.gen ?? 0, cancelled: false };
    this.heap.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Resolves after `ms` of simulated time. */
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.at(ms, r));
  }

  /** Runs tasks in order until simulated time `end` (or `stop()` returns true after a task). */
  async runUntil(end: number, stop?: () => boolean): Promise<void> {
    for (;;) {
      const t = this.heap.peek();
      if (!t || t.at > end) break;
      this.heap.pop();
      if (t.cancelled || (t.owner && t.owner.gen !== t.gen)) continue;
      this.now = Math.max(this.now, t.at);
      this.steps++;
      t.fn();
      await settle();
      while (this.held.length > 0) {
        const held = this.held;
        this.held = [];
        await Promise.all(held);
        await settle();
      }
      if (stop?.()) return;
    }
    this.now = Math.max(this.now, end);
  }
}

/**
 * One member's MemberEnv in the simulation: its timers are scheduler tasks owned by the member;
 * `now()` is the simulated time plus this member's wall-clock offset (a clock jump moves only
 * the wall clock, as an NTP step does; monotonic time never jumps); `setImmediate` is delayed by
 * `ioDelayMs()` (a slow disk: each Ready turn takes that long).
 */
export class SimEnv implements MemberEnv {
  /** Wall-clock offset of this member, ms (clock jumps). */
  wallOffsetMs = 0;
  private readonly prng: Prng;

  constructor(
    private readonly sched: SimScheduler,
    private readonly owner: Owner,
    seed: number,
    private readonly ioDelayMs: () => number = () => 0,
  ) {
    this.prng = new Prng(seed);
  }

  now(): number {
    return SIM_EPOCH_MS + this.sched.now + this.wallOffsetMs;
  }

  monotonicMs(): number {
    return this.sched.now;
  }

  setTimeout(fn: () => void, ms: number): EnvTimer {
    return this.sched.at(ms, fn, this.owner);
  }

  setInterval(fn: () => void, ms: number): EnvTimer {
    const every = Math.max(1, ms);
    let cancelled = false;
    let current: EnvTimer;
    const arm = () => {
      current = this.sched.at(every, () => {
        if (cancelled) return;
        arm();
        fn();
      }, this.owner);
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        current.cancel();
      },
    };
  }

  setImmediate(fn: () => void): void {
    this.sched.at(this.ioDelayMs(), fn, this.owner);
  }

  random(n: number): number {
    return this.prng.int(n);
  }
}
