/**
 * etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact. Validates like etcd's kvServer
 * (server/api/kv-validate.ts), then asks the member; the member's responses (header filled)
 * and ConnectErrors go back unchanged. Source: etcdserver/api/v3rpc/key.go.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { KV } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnIntervals, checkTxnRequest } from "./kv-validate.ts";

/** Settings of the KV service. */
export interface KvOptions {
  /** `--max-txn-ops`: most ops per Txn branch (etcd default 128). */
  maxTxnOps: number;
}

/** The KV service implementation over `api`. Errors: see kv-validate.ts and EtcdServerApi. */
export function kvService(api: EtcdServerApi, opts: KvOptions): ServiceImpl<typeof KV> {
  return {
    range(req, ctx) {
      checkRangeRequest(req);
      return api.range(req, ctx.signal);
    },
    put(req, ctx) {
      checkPutRequest(req);
      return api.put(req, ctx.signal);
    },
    deleteRange(req, ctx) {
      checkDeleteRequest(req);
      return api.deleteRange(req, ctx.signal);
    },
    txn(req, ctx) {
      checkTxnRequest(req, opts.maxTxnOps);
      checkTxnIntervals(req);
      return api.txn(req, ctx.signal);
    },
    compact(req, ctx) {
      return api.compact(req, ctx.signal);
    },
  };
}
