/**
 * The bound on Lock, Campaign and Observe calls blocked at once on one member: each holds a
 * watcher and its stream while it waits, so their number is limited (etcd relies on gRPC's
 * stream limit instead). A call over the limit fails at once with etcd's ResourceExhausted
 * `etcdserver: too many requests` (ErrGRPCTooManyRequests).
 */
import { Errors } from "../errors.ts";

/** Default most Lock/Campaign/Observe calls in progress at once per member. */
export const MAX_WAITERS = 10_000;

/** A counter of calls in progress with a fixed ceiling. */
export class Waiters {
  private active = 0;

  /** @param limit most calls at once (default {@link MAX_WAITERS}). */
  constructor(readonly limit: number = MAX_WAITERS) {}

  /** Calls in progress now. */
  get size(): number {
    return this.active;
  }

  private enter(): void {
    if (this.active >= this.limit) throw Errors.TooManyRequests();
    this.active++;
  }

  /** Runs `f` as one waiter. Errors: ResourceExhausted `etcdserver: too many requests` when full. */
  async run<T>(f: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await f();
    } finally {
      this.active--;
    }
  }

  /** Streams `f()` as one waiter, for as long as the stream lasts. Errors: as {@link run}. */
  async *stream<T>(f: () => AsyncGenerator<T>): AsyncGenerator<T> {
    this.enter();
    try {
      yield* f();
    } finally {
      this.active--;
    }
  }
}

const perMember = new WeakMap<object, Waiters>();

/** The one {@link Waiters} bound of member `api`, shared by its gRPC services and JSON gateway. */
export function waitersOf(api: object): Waiters {
  let w = perMember.get(api);
  if (!w) perMember.set(api, (w = new Waiters()));
  return w;
}
