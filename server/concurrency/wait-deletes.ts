/**
 * Waiting for the keys ahead of a lock or election key to go (etcd's clientv3/concurrency
 * key.go waitDelete / waitDeletes): the waiter whose key has the lowest create revision under
 * the prefix holds the lock; everyone else watches the key just ahead of it, so a release wakes
 * only the next waiter.
 */
import { Event_EventType } from "../../proto/gen/mvccpb/kv_pb.ts";
import type { ResponseHeader } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Code, ConnectError } from "@connectrpc/connect";
import { contextCanceled, type KvClient } from "./kv-client.ts";

/** clientv3's error when a watch ends before the awaited deletion (Unknown). */
const LOST_WATCHER = "lost watcher waiting for delete";
/** rpctypes.ErrCompacted as clientv3 reports a watcher canceled for compaction. */
const COMPACTED = "etcdserver: mvcc: required revision has been compacted";

/**
 * Resolves once `key` is deleted at or after `revision`.
 * Errors: Canceled when `signal` aborts; Unknown `etcdserver: mvcc: required revision has been
 * compacted` when `revision` was compacted away; Unknown `lost watcher waiting for delete` when
 * the member stops watching.
 */
export async function waitDelete(client: KvClient, key: Uint8Array, revision: bigint, signal: AbortSignal): Promise<void> {
  for await (const r of client.watch(key, new Uint8Array(0), revision, signal)) {
    if (r.events.some((ev) => ev.type === Event_EventType.DELETE)) return;
    if (r.compactRevision !== 0n) throw new ConnectError(COMPACTED, Code.Unknown);
  }
  if (signal.aborted) throw contextCanceled();
  throw new ConnectError(LOST_WATCHER, Code.Unknown);
}

/**
 * Waits until no key under `prefix` has a create revision at most `maxCreateRevision`: looks up
 * the newest such key, waits for its deletion, and repeats. Resolves with the header of the
 * last (empty) lookup. Errors: those of {@link waitDelete} and of the lookups (Unknown).
 */
export async function waitDeletes(
  client: KvClient,
  prefix: Uint8Array,
  maxCreateRevision: bigint,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  for (;;) {
    if (signal.aborted) throw contextCanceled();
    const resp = await client.byCreate(prefix, "last", maxCreateRevision);
    const last = resp.kvs[0];
    if (!last) return resp.header!;
    await waitDelete(client, last.key, resp.header!.revision, signal);
  }
}
