/**
 * The lease a lock or campaign is held with (etcd's clientv3/concurrency session.go as the
 * v3lock and v3election servers open it): the caller's lease, or for lease 0 a fresh lease of
 * {@link DEFAULT_SESSION_TTL_S} that nobody keeps alive, so an abandoned lock is released after
 * a minute. A given lease is used as is (an unknown one fails on the first put with Unknown
 * `etcdserver: requested lease not found`).
 */
import type { KvClient } from "./kv-client.ts";

/** clientv3/concurrency's defaultSessionTTL, seconds. */
export const DEFAULT_SESSION_TTL_S = 60n;

/** The lease to hold a key with: `lease`, or a new {@link DEFAULT_SESSION_TTL_S} lease when `lease` is 0. */
export async function sessionLease(client: KvClient, lease: bigint): Promise<bigint> {
  return lease !== 0n ? lease : client.grant(DEFAULT_SESSION_TTL_S);
}

/** The key a session holds under `prefix`: the prefix and the lease ID in lower-case hex (Go's `%x` of an int64). */
export function sessionKeySuffix(lease: bigint): string {
  return lease.toString(16);
}
