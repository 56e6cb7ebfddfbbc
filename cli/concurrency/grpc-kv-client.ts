/**
 * The calls of clientv3/concurrency (server/concurrency/kv-client.ts) over etcdctl's gRPC client,
 * so `etcdctl lock` and `elect` run the same Mutex and Election recipes as the server's Lock and
 * Election services, on the KV, Lease and Watch APIs as Go etcdctl 3.4 does. Calls carry no
 * deadline (etcdctl uses `context.TODO()` there) and fail with the CtlError of
 * {@link EtcdClient.call} (exit 1, etcdctl's error text).
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type DeleteRangeResponse,
  type RangeResponse,
  type TxnRequestSchema,
  type TxnResponse,
  type WatchRequest,
  WatchRequestSchema,
  type WatchResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { byCreateRequest, type KvClient } from "../../server/concurrency/kv-client.ts";
import type { EtcdClient } from "../client.ts";
import { RequestQueue } from "../request-queue.ts";

const NO_DEADLINE = { timeoutMs: null } as const;

/** {@link KvClient} over an {@link EtcdClient}. */
export class GrpcKvClient implements KvClient {
  constructor(private readonly client: EtcdClient) {}

  byCreate(prefix: Uint8Array, order: "first" | "last", maxCreateRevision = 0n): Promise<RangeResponse> {
    const req = byCreateRequest(prefix, order, maxCreateRevision);
    return this.client.call((s, o) => s.kv.range(req, o), { ...NO_DEADLINE, repeatable: true });
  }

  txn(init: MessageInitShape<typeof TxnRequestSchema>): Promise<TxnResponse> {
    return this.client.call((s, o) => s.kv.txn(init, o), NO_DEADLINE);
  }

  delete(key: Uint8Array): Promise<DeleteRangeResponse> {
    return this.client.call((s, o) => s.kv.deleteRange({ key }, o), NO_DEADLINE);
  }

  async grant(ttlSeconds: bigint): Promise<bigint> {
    return (await this.client.call((s, o) => s.lease.leaseGrant({ TTL: ttlSeconds }, o), NO_DEADLINE)).ID;
  }

  async *watch(key: Uint8Array, rangeEnd: Uint8Array, startRevision: bigint, signal: AbortSignal): AsyncGenerator<WatchResponse> {
    // An abort that came before this call (during the caller's previous request) ends it at once.
    if (signal.aborted) return;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const requests = new RequestQueue<WatchRequest>();
    requests.push(create(WatchRequestSchema, { requestUnion: { case: "createRequest", value: { key, rangeEnd, startRevision } } }));
    const responses = new RequestQueue<WatchResponse>();
    void this.client
      .call(async (s) => {
        for await (const r of s.watch.watch(requests, { signal: stop.signal })) {
          responses.push(r);
          if (r.canceled) return;
        }
      }, NO_DEADLINE)
      .catch(() => {})
      .finally(() => responses.close());
    try {
      for await (const r of responses) {
        if (r.created && !r.canceled) continue;
        yield r;
        if (r.canceled) return;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      stop.abort();
      requests.close();
    }
  }
}
