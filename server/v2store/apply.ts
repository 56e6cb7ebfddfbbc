/**
 * Applying a replicated v2 request to the store (etcd's etcdserver/apply_v2.go applierV2store):
 * PUT picks create / update / compareAndSwap / set from prevExist, prevIndex and prevValue;
 * POST creates an in-order key; DELETE deletes or compare-and-deletes; QGET reads (a quorum
 * GET); SYNC removes the keys expired at the leader's time. Runs on every member when the entry
 * is applied, inside the apply transaction.
 */
import type { V2Request } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { V2Code, V2Error } from "./errors.ts";
import type { V2Event } from "./event.ts";
import type { TtlOptions, V2Store } from "./store.ts";

/** What applying yields: the event, the store's error, or nothing (SYNC). */
export type V2Outcome = V2Event | V2Error | undefined;

/** Unix nanoseconds (as replicated) to epoch ms. */
export function nanosToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

/** Epoch ms to Unix nanoseconds. */
export function msToNanos(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 1_000_000n;
}

function ttlOptions(r: V2Request): TtlOptions {
  return { expireMs: r.Expiration === 0n ? 0 : nanosToMs(r.Expiration), refresh: r.Refresh === true };
}

/**
 * Applies `r` to `store`. Store errors are returned, not thrown; an unknown method is a
 * V2Error 300 with cause `etcdserver: unknown method` (etcd's ErrUnknownMethod).
 */
export function applyV2(store: V2Store, r: V2Request): V2Outcome {
  try {
    switch (r.Method) {
      case "POST":
        return store.create(r.Path, r.Dir, r.Val, true, ttlOptions(r));
      case "PUT":
        return applyPut(store, r);
      case "DELETE":
        if (r.PrevIndex > 0n || r.PrevValue !== "") return store.compareAndDelete(r.Path, r.PrevValue, Number(r.PrevIndex));
        return store.delete(r.Path, r.Dir, r.Recursive);
      case "QGET":
        return store.get(r.Path, r.Recursive, r.Sorted);
      case "SYNC":
        store.deleteExpiredKeys(nanosToMs(r.Time));
        return undefined;
      default:
        return new V2Error(V2Code.RaftInternal, "etcdserver: unknown method", 0);
    }
  } catch (e) {
    if (e instanceof V2Error) return e;
    throw e;
  }
}

function applyPut(store: V2Store, r: V2Request): V2Event {
  const ttl = ttlOptions(r);
  const prevIndex = Number(r.PrevIndex);
  if (r.PrevExist !== undefined) {
    if (r.PrevExist) {
      if (prevIndex === 0 && r.PrevValue === "") return store.update(r.Path, r.Val, ttl);
      return store.compareAndSwap(r.Path, r.PrevValue, prevIndex, r.Val, ttl);
    }
    return store.create(r.Path, r.Dir, r.Val, false, ttl);
  }
  if (prevIndex > 0 || r.PrevValue !== "") return store.compareAndSwap(r.Path, r.PrevValue, prevIndex, r.Val, ttl);
  return store.set(r.Path, r.Dir, r.Val, ttl);
}
