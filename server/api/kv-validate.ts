/**
 * Request checks of etcd's KV service, done before a request reaches the member, with etcd's
 * errors and in etcd's order (etcdserver/api/v3rpc/key.go: checkRangeRequest,
 * checkPutRequest, checkDeleteRequest, checkTxnRequest, checkRequestOp, checkIntervals).
 * Each function throws the ConnectError of server/errors.ts and returns nothing otherwise.
 */
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";

/** Range: InvalidArgument `etcdserver: key is not provided` for an empty key. */
export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw Errors.EmptyKey();
}

/**
 * Put: empty key → EmptyKey; `ignore_value` with a value → ValueProvided
 * (`etcdserver: value is provided`); `ignore_lease` with a lease → LeaseProvided
 * (`etcdserver: lease is provided`). All InvalidArgument.
 */
export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw Errors.EmptyKey();
  if (r.ignoreValue && r.value.length !== 0) throw Errors.ValueProvided();
  if (r.ignoreLease && r.lease !== 0n) throw Errors.LeaseProvided();
}

/** DeleteRange: InvalidArgument `etcdserver: key is not provided` for an empty key. */
export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw Errors.EmptyKey();
}

/**
 * One operation of a Txn branch: the check of its kind; an op with no request set is
 * InvalidArgument `etcdserver: key not found` (etcd's ErrGRPCKeyNotFound).
 */
function checkRequestOp(u: RequestOp, maxTxnOps: number): void {
  switch (u.request.case) {
    case "requestRange":
      return checkRangeRequest(u.request.value);
    case "requestPut":
      return checkPutRequest(u.request.value);
    case "requestDeleteRange":
      return checkDeleteRequest(u.request.value);
    case "requestTxn":
      return checkTxnRequest(u.request.value, maxTxnOps);
    default:
      throw Errors.KeyNotFound();
  }
}

/**
 * Txn: more than `maxTxnOps` (`--max-txn-ops`) compares, success ops or failure ops →
 * TooManyOps (`etcdserver: too many operations in txn request`); a compare with an empty
 * key → EmptyKey; then every op of both branches (nested txns are allowed what is left of
 * `maxTxnOps` after this level, as in etcd).
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw Errors.TooManyOps();
  for (const c of r.compare) if (c.key.length === 0) throw Errors.EmptyKey();
  for (const u of r.success) checkRequestOp(u, maxTxnOps - opc);
  for (const u of r.failure) checkRequestOp(u, maxTxnOps - opc);
}

/** A key interval [begin, end) as etcd's adt.StringAffineInterval: end "" is +infinity. */
interface Interval {
  begin: string;
  end: string;
}

/** StringAffineComparable.Compare: byte order, except that "" sorts after everything. */
function affineCompare(a: string, b: string): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** adt.Interval.Compare(a, b) === 0: `a` is neither left nor right of `b`. */
function overlaps(a: Interval, b: Interval): boolean {
  if (affineCompare(a.begin, b.begin) < 0 && affineCompare(a.end, b.begin) <= 0) return false;
  return affineCompare(a.begin, b.end) < 0;
}

const EVERYTHING: Interval = { begin: "\x00", end: "" };

/** Bytes as a string whose UTF-16 order is the bytes' order (Go compares keys as byte strings). */
function keyString(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");
}

function point(k: string): Interval {
  return { begin: k, end: `${k}\x00` };
}

/**
 * etcd's checkIntervals for one list of ops: collects this level's delete ranges and the
 * puts of nested txns and of this level, failing with DuplicateKey (`etcdserver: duplicate
 * key given in txn request`) when a key is put twice or put and deleted. A nested txn's
 * success and failure branches may put the same key (only one of them runs).
 */
function collectIntervals(reqs: readonly RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const req of reqs) {
    if (req.request.case !== "requestDeleteRange") continue;
    const d = req.request.value;
    const key = keyString(d.key);
    dels.push(d.rangeEnd.length !== 0 ? { begin: key, end: keyString(d.rangeEnd) } : point(key));
  }
  const deleted = (k: string) => dels.some((iv) => overlaps(point(k), iv));
  const puts = new Set<string>();
  for (const req of reqs) {
    if (req.request.case !== "requestTxn") continue;
    const then = collectIntervals(req.request.value.success);
    const otherwise = collectIntervals(req.request.value.failure);
    for (const k of then.puts) {
      if (puts.has(k) || deleted(k)) throw Errors.DuplicateKey();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || deleted(k)) throw Errors.DuplicateKey();
      puts.add(k);
    }
    for (const iv of [...then.dels, ...otherwise.dels]) if (overlaps(EVERYTHING, iv)) dels.push(iv);
  }
  for (const req of reqs) {
    if (req.request.case !== "requestPut") continue;
    const k = keyString(req.request.value.key);
    if (puts.has(k) || deleted(k)) throw Errors.DuplicateKey();
    puts.add(k);
  }
  return { puts, dels };
}

/**
 * Txn branches must not put one key twice nor put a key they delete (nested txns
 * included): InvalidArgument `etcdserver: duplicate key given in txn request`. Checked per
 * branch (success, then failure) after {@link checkTxnRequest}, as etcd's kvServer.Txn does.
 */
export function checkTxnIntervals(r: TxnRequest): void {
  collectIntervals(r.success);
  collectIntervals(r.failure);
}
