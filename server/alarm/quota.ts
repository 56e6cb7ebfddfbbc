/**
 * The backend space quota (etcd's etcdserver/quota.go backendQuota): a Put, a Txn with puts or a
 * LeaseGrant is admitted only while the backend size plus its estimated cost stays below
 * `--quota-backend-bytes` (0: etcd's 2 GiB default; negative: no quota).
 */
import type { LeaseGrantRequest, PutRequest, RequestOp, TxnRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/** etcd's DefaultQuotaBytes: 2 GiB. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd's MaxQuotaBytes: 8 GiB, above which etcd warns at start-up. */
export const MAX_QUOTA_BYTES = 8 * 1024 * 1024 * 1024;
/** Estimated cost of storing a lease, bytes (etcd's leaseOverhead). */
const LEASE_OVERHEAD_BYTES = 64;
/** Estimated cost of a key's metadata, bytes (etcd's kvOverhead). */
const KV_OVERHEAD_BYTES = 256;

/** A request the quota is checked for. */
export type QuotaRequest = { put: PutRequest } | { txn: TxnRequest } | { leaseGrant: LeaseGrantRequest };

/** Cost of a put, bytes: 256 + key + value (etcd's costPut). */
function putCost(p: PutRequest): number {
  return KV_OVERHEAD_BYTES + p.key.length + p.value.length;
}

function opCost(op: RequestOp): number {
  return op.request.case === "requestPut" ? putCost(op.request.value) : 0;
}

/** Cost of a txn, bytes: the larger of its branches' put costs, nested txns not counted (etcd's costTxn). */
export function txnPutCost(t: TxnRequest): number {
  const success = t.success.reduce((n, op) => n + opCost(op), 0);
  const failure = t.failure.reduce((n, op) => n + opCost(op), 0);
  return Math.max(success, failure);
}

/** Estimated bytes `r` adds to the backend (etcd's backendQuota.Cost). */
export function quotaCost(r: QuotaRequest): number {
  if ("put" in r) return putCost(r.put);
  if ("txn" in r) return txnPutCost(r.txn);
  return LEASE_OVERHEAD_BYTES;
}

/** The quota in bytes for `--quota-backend-bytes` (0: 2 GiB; negative: Infinity, no quota). */
export function effectiveQuotaBytes(flag: number): number {
  if (flag < 0) return Infinity;
  return flag === 0 ? DEFAULT_QUOTA_BYTES : flag;
}

/**
 * etcd's backendQuota.Available: a request costing nothing always fits; others fit while
 * `backendBytes + cost < quotaBytes`.
 */
export function quotaAvailable(r: QuotaRequest, backendBytes: number, quotaBytes: number): boolean {
  const cost = quotaCost(r);
  return cost === 0 || backendBytes + cost < quotaBytes;
}
