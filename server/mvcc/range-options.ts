/**
 * The RangeRequest options applied after the index lookup: revision filters, sorting,
 * limit/more and keys_only, exactly as etcd's applierV3backend.Range does them
 * (etcdserver/apply.go), including its quirks:
 * - `count` is the number of keys in the interval at the revision, before the min/max
 *   mod/create filters and before `limit`;
 * - without sort_order and filters, only `limit + 1` values are read (enough for `more`),
 *   and a non-KEY sort_target with sort_order NONE then sorts just those, ASCEND;
 * - sort_order NONE with sort_target KEY keeps the index's ascending key order.
 */
import type { KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import {
  type RangeRequest,
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";

const EMPTY = new Uint8Array(0);

/** How many values the range must read: all of them (Infinity) or `limit + 1`. */
export function fetchLimit(req: RangeRequest): number {
  const limit = Number(req.limit);
  if (
    req.sortOrder !== SortOrder.NONE ||
    req.minModRevision !== 0n ||
    req.maxModRevision !== 0n ||
    req.minCreateRevision !== 0n ||
    req.maxCreateRevision !== 0n ||
    limit <= 0
  ) {
    return Infinity;
  }
  return limit + 1;
}

/** Bytewise comparison of two byte strings (bytes.Compare). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Comparator of one sort target (apply.go kvSortByKey/Version/Create/Mod/Value). */
function comparator(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.VERSION:
      return (a, b) => compareBigints(a.version, b.version);
    case SortTarget.CREATE:
      return (a, b) => compareBigints(a.createRevision, b.createRevision);
    case SortTarget.MOD:
      return (a, b) => compareBigints(a.modRevision, b.modRevision);
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return (a, b) => compareBytes(a.key, b.key);
  }
}

/**
 * Applies filters, sort, limit and keys_only to the key-ordered values read for `req`;
 * returns the kvs to answer and the `more` flag. Mutates and may reorder `kvs`.
 * Ties keep ascending key order (a stable sort of key-ordered input).
 */
export function finishRange(req: RangeRequest, kvs: KeyValue[]): { kvs: KeyValue[]; more: boolean } {
  let out = kvs;
  const { maxModRevision, minModRevision, maxCreateRevision, minCreateRevision } = req;
  if (maxModRevision !== 0n) out = out.filter((kv) => kv.modRevision <= maxModRevision);
  if (minModRevision !== 0n) out = out.filter((kv) => kv.modRevision >= minModRevision);
  if (maxCreateRevision !== 0n) out = out.filter((kv) => kv.createRevision <= maxCreateRevision);
  if (minCreateRevision !== 0n) out = out.filter((kv) => kv.createRevision >= minCreateRevision);

  let order = req.sortOrder;
  if (req.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (order === SortOrder.ASCEND) {
    const cmp = comparator(req.sortTarget);
    out.sort(cmp);
  } else if (order === SortOrder.DESCEND) {
    const cmp = comparator(req.sortTarget);
    out.sort((a, b) => cmp(b, a));
  }

  const limit = Number(req.limit);
  let more = false;
  if (limit > 0 && out.length > limit) {
    out = out.slice(0, limit);
    more = true;
  }
  if (req.keysOnly) for (const kv of out) kv.value = EMPTY;
  return { kvs: out, more };
}
