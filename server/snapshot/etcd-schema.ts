/**
 * etcd 3.4's backend schema: bucket names and the byte encodings of their keys and values, as
 * etcd writes them into its bbolt file and so into `etcdctl snapshot save` files.
 *
 * - `key`: revision key → mvccpb.KeyValue (mvcc/kvstore_txn.go put/delete, mvcc/revision.go);
 *   a revision key is main (8 bytes big-endian), `_`, sub (8 bytes big-endian), plus `t` for a
 *   tombstone, whose value is a KeyValue holding only the key.
 * - `meta`: `consistent_index` (uint64 big-endian), `scheduledCompactRev` and
 *   `finishedCompactRev` (revision keys with sub 0) (mvcc/kvstore.go, etcdserver/server.go).
 * - `lease`: lease ID (int64 big-endian) → leasepb.Lease (lease/lessor.go).
 * - `auth`: `authEnabled` (one byte 1/0), `authRevision` (uint64 big-endian);
 *   `authUsers`/`authRoles`: name → authpb.User / authpb.Role (auth/store.go).
 * - `members`: member ID (lowercase hex) → membership.Member as JSON; `members_removed`:
 *   member ID → `removed`; `cluster`: `clusterVersion` → e.g. `3.4.0`
 *   (etcdserver/api/membership/store.go).
 * - `alarm`: marshaled etcdserverpb.AlarmMember → empty (etcdserver/api/v3alarm/alarms.go).
 * Runs under Bun and Deno.
 */

/** etcd 3.4's buckets, in bbolt's (byte) order. */
export const ETCD_BUCKETS = [
  "alarm",
  "auth",
  "authRoles",
  "authUsers",
  "cluster",
  "key",
  "lease",
  "members",
  "members_removed",
  "meta",
] as const;

/** `meta` bucket keys. */
export const META_CONSISTENT_INDEX = "consistent_index";
export const META_SCHEDULED_COMPACT = "scheduledCompactRev";
export const META_FINISHED_COMPACT = "finishedCompactRev";
/** `auth` bucket keys. */
export const AUTH_ENABLED = "authEnabled";
export const AUTH_REVISION = "authRevision";
/** `cluster` bucket key. */
export const CLUSTER_VERSION = "clusterVersion";

/** Length of a revision key without the tombstone mark, bytes. */
export const REV_BYTES_LEN = 17;
const TOMBSTONE_MARK = 0x74; // 't'

/** A revision key: main and sub revision (non-negative), `t` appended for a tombstone. */
export function revisionKey(main: number, sub: number, tombstone = false): Uint8Array {
  const b = new Uint8Array(tombstone ? REV_BYTES_LEN + 1 : REV_BYTES_LEN);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(main));
  b[8] = 0x5f;
  dv.setBigUint64(9, BigInt(sub));
  if (tombstone) b[REV_BYTES_LEN] = TOMBSTONE_MARK;
  return b;
}

/**
 * Decodes a revision key (etcd's bytesToRev and isTombstone). Throws Error
 * `bad revision key` when it is not 17 or 18 bytes with `_` at byte 8.
 */
export function parseRevisionKey(k: Uint8Array): { main: number; sub: number; tombstone: boolean } {
  if ((k.length !== REV_BYTES_LEN && k.length !== REV_BYTES_LEN + 1) || k[8] !== 0x5f) throw new Error("bad revision key");
  const dv = new DataView(k.buffer, k.byteOffset, REV_BYTES_LEN);
  return {
    main: Number(dv.getBigInt64(0)),
    sub: Number(dv.getBigInt64(9)),
    tombstone: k.length === REV_BYTES_LEN + 1 && k[REV_BYTES_LEN] === TOMBSTONE_MARK,
  };
}

/** 8 bytes big-endian of an unsigned (or, with `signed`, two's complement) 64-bit integer. */
export function u64be(v: bigint | number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)));
  return b;
}

/** Reads 8 bytes big-endian as uint64; throws Error on another length. */
export function readU64be(b: Uint8Array): bigint {
  if (b.length !== 8) throw new Error(`expected 8 bytes, got ${b.length}`);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

/** A member as etcd 3.4 keeps it in the `members` bucket. */
export type EtcdMember = { id: bigint; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean };

/** Member ID as etcd prints it (types.ID.String()): lowercase hex, no padding. */
export function memberKey(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/**
 * The JSON Go's encoding/json makes of membership.Member: `id` a number (uint64, exact),
 * `peerURLs`, `isLearner` (omitted when false), `name` and `clientURLs` (omitted when empty).
 */
export function encodeMemberJson(m: EtcdMember): string {
  let s = `{"id":${BigInt.asUintN(64, m.id).toString()},"peerURLs":${goJson(m.peerURLs)}`;
  if (m.isLearner) s += `,"isLearner":true`;
  if (m.name !== "") s += `,"name":${goJson(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":${goJson(m.clientURLs)}`;
  return s + "}";
}

/** Parses a `members` bucket value (ID kept exact). Throws SyntaxError on bad JSON. */
export function decodeMemberJson(json: string): EtcdMember {
  const id = /"id":\s*(\d+)/.exec(json)?.[1];
  const o = JSON.parse(json) as { peerURLs?: string[]; clientURLs?: string[]; name?: string; isLearner?: boolean };
  return {
    id: BigInt(id ?? "0"),
    name: o.name ?? "",
    peerURLs: o.peerURLs ?? [],
    clientURLs: o.clientURLs ?? [],
    isLearner: o.isLearner ?? false,
  };
}

/** JSON.stringify with Go's HTML escaping of <, > and & (encoding/json's default). */
function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}
