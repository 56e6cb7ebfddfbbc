/**
 * Key-range permissions of one user, merged over the user's roles, and the checks etcd makes
 * against them (auth/range_perm_cache.go over pkg/adt's interval tree).
 *
 * Keys are compared as etcd's `BytesAffineComparable`: byte order, except that an EMPTY end
 * means "no upper bound" (greater than every key). A permission is the half-open interval
 * [key, range_end); a permission without range_end is the single key, [key, key+"\0"); a
 * range_end of "\0" means from `key` on (no upper bound).
 *
 * - A single key (request without range_end) is permitted when some interval contains it
 *   (etcd's checkKeyPoint, `Intersects`).
 * - A range [key, range_end) is permitted when the union of the intervals covers it without a
 *   gap (etcd's checkKeyInterval, `Contains`).
 *
 * The tree is replaced by a list sorted by start: a user has a handful of permissions, and
 * the answer is the same.
 */
import type { Permission } from "../../proto/gen/authpb/auth_pb.ts";
import { Permission_Type } from "../../proto/gen/authpb/auth_pb.ts";

/** A half-open key interval; `end` empty = unbounded. */
export interface KeyInterval {
  begin: Uint8Array;
  end: Uint8Array;
}

/** Byte-wise comparison (Go's bytes.Compare): negative, 0 or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** etcd's BytesAffineComparable.Compare: an empty slice is greater than any other. */
export function compareAffine(a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return compareBytes(a, b);
}

/** The interval of a single key: [key, key + "\0"). */
export function pointInterval(key: Uint8Array): KeyInterval {
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return { begin: key, end };
}

/** Whether `a` and `b` overlap (pkg/adt Interval.Compare == 0). */
function overlaps(a: KeyInterval, b: KeyInterval): boolean {
  // a left of b: a.begin < b.begin and a.end <= b.begin; a right of b: a.begin >= b.end.
  if (compareAffine(a.begin, b.begin) < 0 && compareAffine(a.end, b.begin) <= 0) return false;
  if (compareAffine(a.begin, b.end) >= 0) return false;
  return true;
}

/** A set of intervals with etcd's interval-tree queries. */
export class IntervalSet {
  private readonly list: KeyInterval[] = [];

  /** Adds an interval (kept sorted by begin; equal begins keep insertion order). */
  insert(ivl: KeyInterval): void {
    let i = this.list.length;
    while (i > 0 && compareAffine(this.list[i - 1]!.begin, ivl.begin) > 0) i--;
    this.list.splice(i, 0, ivl);
  }

  /** Whether some interval overlaps `ivl` (pkg/adt Intersects). */
  intersects(ivl: KeyInterval): boolean {
    return this.list.some((x) => overlaps(ivl, x));
  }

  /**
   * Whether the intervals overlapping `ivl` cover it entirely and without a gap
   * (pkg/adt Contains: visits the overlapping intervals in order of their start).
   */
  contains(ivl: KeyInterval): boolean {
    let minBegin: Uint8Array | undefined;
    let maxEnd: Uint8Array | undefined;
    for (const x of this.list) {
      if (!overlaps(ivl, x)) continue;
      if (minBegin === undefined || maxEnd === undefined) {
        minBegin = x.begin;
        maxEnd = x.end;
        continue;
      }
      if (compareAffine(maxEnd, x.begin) < 0) return false;
      if (compareAffine(x.end, maxEnd) > 0) maxEnd = x.end;
    }
    if (minBegin === undefined || maxEnd === undefined) return false;
    return compareAffine(maxEnd, ivl.end) >= 0 && compareAffine(minBegin, ivl.begin) <= 0;
  }

  /** Number of intervals. */
  get size(): number {
    return this.list.length;
  }
}

/** The merged read and write intervals of one user (etcd's unifiedRangePermissions). */
export interface UnifiedRangePermissions {
  read: IntervalSet;
  write: IntervalSet;
}

/** The interval a stored permission grants (etcd's getMergedPerms). */
export function permissionInterval(perm: Pick<Permission, "key" | "rangeEnd">): KeyInterval {
  if (perm.rangeEnd.length === 0) return pointInterval(perm.key);
  const fromKey = perm.rangeEnd.length === 1 && perm.rangeEnd[0] === 0;
  return { begin: perm.key, end: fromKey ? new Uint8Array(0) : perm.rangeEnd };
}

/** Merges the permissions of all of a user's roles (READWRITE counts for both). */
export function mergePermissions(perms: Iterable<Permission>): UnifiedRangePermissions {
  const read = new IntervalSet();
  const write = new IntervalSet();
  for (const p of perms) {
    const ivl = permissionInterval(p);
    if (p.permType === Permission_Type.READ || p.permType === Permission_Type.READWRITE) read.insert(ivl);
    if (p.permType === Permission_Type.WRITE || p.permType === Permission_Type.READWRITE) write.insert(ivl);
  }
  return { read, write };
}

/** Which side of the permissions a request needs. */
export type PermissionKind = "read" | "write";

/**
 * Whether `perms` allow `kind` access to `key` (no `rangeEnd`: the single key) or to the range
 * [key, rangeEnd) (`rangeEnd` "\0": from `key` on). etcd's isRangeOpPermitted.
 */
export function isRangeOpPermitted(
  perms: UnifiedRangePermissions,
  key: Uint8Array,
  rangeEnd: Uint8Array,
  kind: PermissionKind,
): boolean {
  const set = kind === "read" ? perms.read : perms.write;
  if (rangeEnd.length === 0) return set.intersects(pointInterval(key));
  const end = rangeEnd.length === 1 && rangeEnd[0] === 0 ? new Uint8Array(0) : rangeEnd;
  return set.contains({ begin: key, end });
}
