/**
 * Clients waiting for their proposals: etcd's `wait.Wait` keyed by request ID
 * (etcdserver/v3_server.go processInternalRaftRequestOnce) or by ConfChange ID
 * (etcdserver/server.go configure).
 *
 * An entry's outcome is recorded while it is applied (inside the SQLite transaction) and
 * handed to its caller only after that transaction committed, so an answer never precedes
 * durability. A proposal not applied within the request timeout fails with the error the
 * caller's `onTimeout` picks (etcd's parseProposeCtxErr; default `etcdserver: request timed out`).
 */
import { Errors } from "../errors.ts";
import type { ApplyOutcome } from "./applier.ts";
import { realEnv, type EnvTimer, type MemberEnv } from "./env.ts";

interface Waiter<T> {
  resolve: (outcome: T) => void;
  reject: (error: unknown) => void;
  /** When the request times out, ms on the env's monotonic clock (a wall-clock step moves no deadline). */
  deadlineMs: number;
  onTimeout: () => unknown;
  /** Size of the proposal, bytes (counted in {@link ProposalWaiters.bytes}). */
  bytes: number;
}

/** Pending proposals of this member, by proposal ID; `T` is what applying yields. */
export class ProposalWaiters<T = ApplyOutcome> {
  private readonly waiting = new Map<bigint, Waiter<T>>();
  private ready: [Waiter<T>, T][] = [];
  private waitingBytes = 0;
  /** The one timer of all request timeouts, armed for {@link timerAtMs} (none when undefined). */
  private timer: EnvTimer | undefined;
  private timerAtMs = Infinity;

  /** `env`: the clock and timer of the request timeouts (default the real ones). */
  constructor(private readonly env: MemberEnv = realEnv) {}

  /**
   * Waits for the outcome of proposal `id` (`bytes` long); after `timeoutMs` rejects with
   * `onTimeout()` (default Errors.Timeout()). All waiters share one timer, armed for the
   * earliest deadline (no timer per request).
   */
  register(id: bigint, timeoutMs: number, onTimeout: () => unknown = Errors.Timeout, bytes = 0): Promise<T> {
    return new Promise((resolve, reject) => {
      const deadlineMs = this.env.monotonicMs() + timeoutMs;
      this.waiting.set(id, { resolve, reject, deadlineMs, onTimeout, bytes });
      this.waitingBytes += bytes;
      if (deadlineMs < this.timerAtMs) this.arm(deadlineMs);
    });
  }

  private arm(atMs: number): void {
    this.timer?.cancel();
    this.timerAtMs = atMs;
    this.timer = this.env.setTimeout(() => this.expire(), Math.max(0, atMs - this.env.monotonicMs()));
  }

  /** Rejects every waiter past its deadline; re-arms for the earliest one left. */
  private expire(): void {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    const now = this.env.monotonicMs();
    let next = Infinity;
    for (const [id, w] of this.waiting) {
      if (w.deadlineMs <= now) {
        this.remove(id);
        w.reject(w.onTimeout());
      } else if (w.deadlineMs < next) {
        next = w.deadlineMs;
      }
    }
    if (next !== Infinity) this.arm(next);
  }

  /** Stops waiting for proposal `id` (its client went away): rejects it with `error`. */
  cancel(id: bigint, error: unknown): void {
    const w = this.remove(id);
    if (!w) return;
    w.reject(error);
  }

  private remove(id: bigint): Waiter<T> | undefined {
    const w = this.waiting.get(id);
    if (!w) return undefined;
    this.waiting.delete(id);
    this.waitingBytes -= w.bytes;
    if (this.waiting.size === 0 && this.timer) {
      this.timer.cancel();
      this.timer = undefined;
      this.timerAtMs = Infinity;
    }
    return w;
  }

  /** True while proposal `id` waits. */
  has(id: bigint): boolean {
    return this.waiting.has(id);
  }

  /** Records the outcome of an applied entry (no-op for entries other members proposed). */
  record(id: bigint, outcome: T): void {
    const w = this.remove(id);
    if (!w) return;
    this.ready.push([w, outcome]);
  }

  /** Answers every recorded outcome; call after the apply transaction committed. */
  flush(): void {
    const ready = this.ready;
    this.ready = [];
    for (const [w, outcome] of ready) w.resolve(outcome);
  }

  /**
   * Rejects every waiting proposal with `error` (shutdown), including outcomes recorded but not
   * yet flushed: their transaction never committed (a fatal error stopped the member before).
   */
  failAll(error: unknown): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAtMs = Infinity;
    this.waitingBytes = 0;
    const unflushed = this.ready;
    this.ready = [];
    for (const [w] of unflushed) w.reject(error);
  }

  /** Number of proposals waiting. */
  get size(): number {
    return this.waiting.size;
  }

  /** Total size of the proposals waiting, bytes (as given to register). */
  get bytes(): number {
    return this.waitingBytes;
  }
}
