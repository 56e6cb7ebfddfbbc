/**
 * The outside world of a member: clocks, timers and randomness, passed in at construction
 * (RaftDriver, EtcdNode) instead of read from globals, so a test can run the production member
 * under a clock it moves itself (server/node/testing.ts `ManualEnv`), the way TigerBeetle's VOPR
 * and FoundationDB's simulation replace time. Production passes {@link realEnv}.
 */
import { Prng } from "../raft/prng.ts";

/** A pending timer of a {@link MemberEnv}; `cancel()` is idempotent. */
export interface EnvTimer {
  cancel(): void;
}

/** Clocks, timers and randomness of one member. */
export interface MemberEnv {
  /** Wall-clock time, epoch ms (request start times, leader election time, member IDs). */
  now(): number;
  /** Monotonic time, ms from an arbitrary origin (lease expiry). */
  monotonicMs(): number;
  /** Runs `fn` once, `ms` ms from now. */
  setTimeout(fn: () => void, ms: number): EnvTimer;
  /** Runs `fn` every `ms` ms until cancelled. */
  setInterval(fn: () => void, ms: number): EnvTimer;
  /** Runs `fn` after the current turn of the event loop, once pending I/O was handled (Node's setImmediate). */
  setImmediate(fn: () => void): void;
  /** A random integer in [0, n) (Raft's randomized election timeout). */
  random(n: number): number;
}

/** The real world: Date.now, performance.now, the runtime's timers, a PRNG seeded from the clock. */
export function createRealEnv(seed: number = Date.now() ^ (process.pid << 16)): MemberEnv {
  const prng = new Prng(seed >>> 0);
  return {
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
    setTimeout(fn, ms) {
      const t = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(t) };
    },
    setInterval(fn, ms) {
      const t = setInterval(fn, ms);
      return { cancel: () => clearInterval(t) };
    },
    setImmediate: (fn) => void setImmediate(fn),
    random: (n) => prng.int(n),
  };
}

/** The environment production members run in. */
export const realEnv: MemberEnv = createRealEnv();
