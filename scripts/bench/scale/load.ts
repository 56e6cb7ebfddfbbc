/**
 * Writes keys with many requests in flight over 8 connections (the benchmark's raw gRPC caller, callers.ts): the
 * scaling run's way to fill a server with a million keys, and to pile up history by overwriting keys. With one put
 * per request (the default, as etcd's `benchmark put`) every key is its own revision, so a million keys make a
 * million revisions for the compaction step; with more, puts go in KV.Txn requests (one revision each).
 */
import { create } from "@bufbuild/protobuf";
import { KV, PutRequestSchema, RequestOpSchema, TxnRequestSchema, type RequestOp } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { createCaller } from "../callers.ts";
import { scaleKey } from "./client.ts";

/** Connections the writes go over. */
const CONNECTIONS = 8;
/** Requests in flight. */
const IN_FLIGHT = 64;
/** Value bytes per Txn at most (below etcd's default `--max-request-bytes` of 1.5 MiB). */
const VALUE_BYTES_PER_TXN = 1 << 20;

/**
 * Puts `puts` values to `endpoint`: put `i` writes key `scaleKey(i mod keys)` with `value`, so `puts > keys`
 * overwrites (adds history). `putsPerRequest` > 1 groups them into Txns, capped so a Txn never puts one key twice
 * (etcd rejects that) and holds at most 1 MiB of values. `progress` is called about every 10 % with the puts done.
 * Resolves with the elapsed time in ms; throws on the first failed request.
 */
export async function putKeys(
  endpoint: string,
  puts: number,
  keys: number,
  value: Uint8Array,
  putsPerRequest = 1,
  progress?: (done: number) => void,
): Promise<number> {
  const perRequest = Math.max(1, Math.min(putsPerRequest, keys, Math.floor(VALUE_BYTES_PER_TXN / Math.max(1, value.length))));
  const caller = createCaller("raw", endpoint, CONNECTIONS);
  const request = (first: number, end: number) => {
    if (perRequest === 1) return caller.prepareUnary(KV.method.put, create(PutRequestSchema, { key: scaleKey(first % keys), value }));
    const success: RequestOp[] = [];
    for (let i = first; i < end; i++) {
      success.push(create(RequestOpSchema, { request: { case: "requestPut", value: { key: scaleKey(i % keys), value } } }));
    }
    return caller.prepareUnary(KV.method.txn, create(TxnRequestSchema, { success }));
  };
  const step = Math.max(perRequest, Math.ceil(puts / 10 / perRequest) * perRequest);
  let next = 0;
  let reported = 0;
  const t0 = performance.now();
  const worker = async (lane: number): Promise<void> => {
    while (next < puts) {
      const first = next;
      next = Math.min(puts, next + perRequest);
      await request(first, next)(lane);
      if (progress && next - reported >= step) {
        reported = next;
        progress(next);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, lane) => worker(lane)));
  } finally {
    caller.close();
  }
  return performance.now() - t0;
}
