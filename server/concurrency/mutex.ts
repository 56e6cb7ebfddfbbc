/**
 * A distributed lock on a name, as etcd's clientv3/concurrency Mutex (mutex.go) that etcd 3.4's
 * v3lock server uses: the holder's key is `<name>/<lease hex>`, attached to its lease; the key
 * with the lowest create revision under `<name>/` holds the lock; the others wait for the
 * deletion of every key created before theirs. Locking again with the same lease returns the
 * same key (one acquisition per lease).
 */
import { create } from "@bufbuild/protobuf";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  CompareSchema,
  type ResponseHeader,
  type ResponseOp,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { byCreateRequest, concatKey, type KvClient } from "./kv-client.ts";
import { sessionKeySuffix, sessionLease } from "./session.ts";
import { waitDeletes } from "./wait-deletes.ts";

/** What a successful lock returns: the ownership key and the header of the moment it was acquired. */
export interface LockResult {
  header: ResponseHeader;
  key: Uint8Array;
}

/** A compare that holds when `key`'s create revision equals `revision` (0: the key does not exist). */
export function createRevisionIs(key: Uint8Array, revision: bigint) {
  return create(CompareSchema, {
    key,
    target: Compare_CompareTarget.CREATE,
    result: Compare_CompareResult.EQUAL,
    targetUnion: { case: "createRevision", value: revision },
  });
}

/**
 * Acquires the lock `name` (bytes) for `lease` (0: a fresh 60 s lease, see session.ts), waiting
 * as long as needed. On a failed or aborted wait the waiter's key is deleted again.
 * Errors (Unknown with the member's message, see client.ts): `etcdserver: requested lease not
 * found`, request timeouts; Canceled when `signal` aborts.
 * Header: of the lock txn when uncontended, else of the last lookup that found no key ahead.
 */
export async function lock(client: KvClient, name: Uint8Array, lease: bigint, signal: AbortSignal): Promise<LockResult> {
  const id = await sessionLease(client, lease);
  const prefix = concatKey(name, "/");
  const key = concatKey(prefix, sessionKeySuffix(id));
  const resp = await client.txn({
    compare: [createRevisionIs(key, 0n)],
    success: [
      { request: { case: "requestPut", value: { key, lease: id } } },
      { request: { case: "requestRange", value: byCreateRequest(prefix, "first") } },
    ],
    failure: [
      { request: { case: "requestRange", value: { key } } },
      { request: { case: "requestRange", value: byCreateRequest(prefix, "first") } },
    ],
  });
  let myRev = resp.header!.revision;
  if (!resp.succeeded) myRev = rangeKvs(resp.responses[0])[0]!.createRevision;
  const owner = rangeKvs(resp.responses[1])[0];
  if (!owner || owner.createRevision === myRev) return { header: resp.header!, key };
  try {
    const header = await waitDeletes(client, prefix, myRev - 1n, signal);
    return { header, key };
  } catch (e) {
    // etcd's Mutex.Lock releases its key with the client's own context: done even after a cancel.
    await client.delete(key).catch(() => {});
    throw e;
  }
}

/** The key-values of a txn's range response. */
export function rangeKvs(r: ResponseOp | undefined): KeyValue[] {
  return r?.response.case === "responseRange" ? r.response.value.kvs : [];
}

/** Releases a lock by deleting its ownership `key` (absent keys are fine). Resolves with the delete's header. Errors: Unknown `etcdserver: key is not provided` for an empty key. */
export async function unlock(client: KvClient, key: Uint8Array): Promise<ResponseHeader> {
  return (await client.delete(key)).header!;
}
