/**
 * What the lock and election recipes (mutex.ts, election.ts, wait-deletes.ts) need from etcd:
 * the few KV, Lease and Watch calls clientv3/concurrency makes. Implemented in the server by
 * {@link MemberClient} (client.ts, straight over the member) and in etcdctl over gRPC
 * (cli/concurrency/grpc-kv-client.ts), so both run the same recipe. Runtime-neutral: no Bun APIs.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  RangeRequestSchema,
  type DeleteRangeResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequestSchema,
  type TxnResponse,
  type WatchResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/** The calls of clientv3/concurrency; every one rejects with the implementation's error. */
export interface KvClient {
  /**
   * The key under `prefix` with the lowest (`first`, clientv3's WithFirstCreate) or highest
   * (`last`, WithLastCreate) create revision, limited to create revisions at most
   * `maxCreateRevision` when it is not 0 (WithMaxCreateRev); a linearizable read.
   */
  byCreate(prefix: Uint8Array, order: "first" | "last", maxCreateRevision?: bigint): Promise<RangeResponse>;
  /** A Txn. */
  txn(init: MessageInitShape<typeof TxnRequestSchema>): Promise<TxnResponse>;
  /** Deletes the single key `key`. */
  delete(key: Uint8Array): Promise<DeleteRangeResponse>;
  /** Grants a lease of `ttlSeconds` with an ID the server picks; resolves with the ID. */
  grant(ttlSeconds: bigint): Promise<bigint>;
  /**
   * One watcher on `key` (with `rangeEnd`, a range) from `startRevision`: its responses after
   * `created`, until it is canceled (that response included), the stream ends or `signal` aborts.
   */
  watch(key: Uint8Array, rangeEnd: Uint8Array, startRevision: bigint, signal: AbortSignal): AsyncGenerator<WatchResponse>;
}

/** What a caller answers when its client went away or was interrupted (Go's context.Canceled). */
export function contextCanceled(): ConnectError {
  return new ConnectError("context canceled", Code.Canceled);
}

/** `key` followed by `suffix` (keys are bytes). */
export function concatKey(key: Uint8Array, suffix: string): Uint8Array {
  const tail = new TextEncoder().encode(suffix);
  const out = new Uint8Array(key.length + tail.length);
  out.set(key);
  out.set(tail, key.length);
  return out;
}

/** clientv3.GetPrefixRangeEnd: the end of the range of keys starting with `prefix` ("\0" for an empty or all-0xff prefix). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.slice(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}

/** The RangeRequest of {@link KvClient.byCreate}: one key under `prefix`, sorted by create revision. */
export function byCreateRequest(prefix: Uint8Array, order: "first" | "last", maxCreateRevision = 0n): RangeRequest {
  return create(RangeRequestSchema, {
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    limit: 1n,
    sortTarget: RangeRequest_SortTarget.CREATE,
    sortOrder: order === "first" ? RangeRequest_SortOrder.ASCEND : RangeRequest_SortOrder.DESCEND,
    maxCreateRevision,
  });
}
