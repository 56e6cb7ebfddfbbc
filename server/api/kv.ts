/**
 * etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact. Validates like etcd's kvServer
 * (server/api/kv-validate.ts), then asks the member; the member's responses (header filled)
 * and ConnectErrors go back unchanged. Source: etcdserver/api/v3rpc/key.go.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { KV } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { requestAuth } from "./auth-context.ts";
import { callCancellation } from "./call-cancellation.ts";
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnIntervals, checkTxnRequest } from "./kv-validate.ts";

/** Settings of the KV service. */
export interface KvOptions {
  /** `--max-txn-ops`: most ops per Txn branch (etcd default 128). */
  maxTxnOps: number;
}

/**
 * The KV service implementation over `api`: requests are validated, then the caller's
 * credentials (server/api/auth-context.ts) go with them. Errors: see kv-validate.ts,
 * EtcdServerApi and InvalidAuthToken.
 */
export function kvService(api: EtcdServerApi, opts: KvOptions): ServiceImpl<typeof KV> {
  return {
    async range(req, ctx) {
      checkRangeRequest(req);
      return api.range(req, await requestAuth(api, ctx), callCancellation(ctx));
    },
    async put(req, ctx) {
      checkPutRequest(req);
      return api.put(req, await requestAuth(api, ctx), callCancellation(ctx));
    },
    async deleteRange(req, ctx) {
      checkDeleteRequest(req);
      return api.deleteRange(req, await requestAuth(api, ctx), callCancellation(ctx));
    },
    async txn(req, ctx) {
      checkTxnRequest(req, opts.maxTxnOps);
      checkTxnIntervals(req);
      return api.txn(req, await requestAuth(api, ctx), callCancellation(ctx));
    },
    async compact(req, ctx) {
      return api.compact(req, await requestAuth(api, ctx), callCancellation(ctx));
    },
  };
}
