/**
 * Txn compare evaluation, mirroring etcd's applyCompare/compareKV (etcdserver/apply.go).
 *
 * A compare reads its key (or [key, range_end) interval) at the revision the txn starts
 * from. It holds when every key read satisfies it; when no key exists, VALUE compares fail
 * and other targets compare against a zero KeyValue (version/create/mod/lease 0).
 */
import {
  type Compare,
  Compare_CompareResult as Result,
  Compare_CompareTarget as Target,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { compareBytes } from "./range-options.ts";

const EMPTY = new Uint8Array(0);

function sign(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether one KeyValue satisfies `c` (compareKV). The compare's operand counts only when
 * its oneof case matches the target; otherwise it is 0 (or the empty value).
 */
export function compareKeyValue(c: Compare, kv: KeyValue | undefined): boolean {
  const u = c.targetUnion;
  let result: number;
  switch (c.target) {
    case Target.VALUE:
      result = compareBytes(kv?.value ?? EMPTY, u.case === "value" ? u.value : EMPTY);
      break;
    case Target.CREATE:
      result = sign(kv?.createRevision ?? 0n, u.case === "createRevision" ? u.value : 0n);
      break;
    case Target.MOD:
      result = sign(kv?.modRevision ?? 0n, u.case === "modRevision" ? u.value : 0n);
      break;
    case Target.VERSION:
      result = sign(kv?.version ?? 0n, u.case === "version" ? u.value : 0n);
      break;
    case Target.LEASE:
      result = sign(kv?.lease ?? 0n, u.case === "lease" ? u.value : 0n);
      break;
    default:
      result = 0;
  }
  switch (c.result) {
    case Result.EQUAL:
      return result === 0;
    case Result.NOT_EQUAL:
      return result !== 0;
    case Result.GREATER:
      return result > 0;
    case Result.LESS:
      return result < 0;
    default:
      return true;
  }
}

/** Whether a compare holds over the KeyValues it read (applyCompare). */
export function compareHolds(c: Compare, kvs: readonly KeyValue[]): boolean {
  if (kvs.length === 0) return c.target === Target.VALUE ? false : compareKeyValue(c, undefined);
  for (const kv of kvs) if (!compareKeyValue(c, kv)) return false;
  return true;
}
