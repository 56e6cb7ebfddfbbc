/**
 * Writes the keys a read or delete workload needs before its warm-up, in KV.Txn requests of up to 128 puts (etcd's
 * default `--max-txn-ops`) with a few in flight, so that pre-writing 100,000 keys takes seconds, not minutes.
 */
import { create } from "@bufbuild/protobuf";
import { KV, RequestOpSchema, TxnRequestSchema } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Caller } from "../callers.ts";

/** Puts per Txn (etcd 3.4's default `--max-txn-ops`). */
const PUTS_PER_TXN = 128;
/** Txns in flight at once. */
const TXNS_IN_FLIGHT = 8;

/** Puts `count` keys `key(0) .. key(count - 1)`, each with `value`; throws on the first failed Txn. */
export async function preloadKeys(caller: Caller, count: number, key: (n: number) => Uint8Array, value: Uint8Array): Promise<void> {
  let next = 0;
  const worker = async (lane: number): Promise<void> => {
    while (next < count) {
      const first = next;
      next = Math.min(count, next + PUTS_PER_TXN);
      const success = [];
      for (let n = first; n < next; n++) {
        success.push(create(RequestOpSchema, { request: { case: "requestPut", value: { key: key(n), value } } }));
      }
      await caller.prepareUnary(KV.method.txn, create(TxnRequestSchema, { success }))(lane);
    }
  };
  await Promise.all(Array.from({ length: TXNS_IN_FLIGHT }, (_, lane) => worker(lane)));
}
