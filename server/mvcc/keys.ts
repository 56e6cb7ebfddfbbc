/**
 * Keys as "binary strings": each byte 0..255 becomes one UTF-16 code unit (latin1), so
 * JavaScript's string order equals etcd's bytewise key order (bytes.Compare in mvcc/index.go)
 * and keys work as Map keys.
 */

/** Keys up to this many bytes go through String.fromCharCode (fast for short keys). */
const SHORT_KEY = 1024;

/** Binary string of `bytes` (one char per byte). */
export function bytesToKey(bytes: Uint8Array): string {
  if (bytes.length <= SHORT_KEY) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** Bytes of a binary string made by {@link bytesToKey} (a fresh Uint8Array). */
export function keyToBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}

/**
 * The key interval of a request, mirroring etcd's `mkGteRange` (etcdserver/apply.go) and
 * treeIndex.visit: empty `rangeEnd` = the single key; `rangeEnd` = "\0" = every key >= key
 * (`end` undefined); otherwise [key, rangeEnd).
 */
export type KeyInterval = { key: string; single: boolean; end: string | undefined };

/** Builds the {@link KeyInterval} of (key, range_end) bytes as sent by a client. */
export function keyInterval(key: Uint8Array, rangeEnd: Uint8Array): KeyInterval {
  const k = bytesToKey(key);
  if (rangeEnd.length === 0) return { key: k, single: true, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key: k, single: false, end: undefined };
  return { key: k, single: false, end: bytesToKey(rangeEnd) };
}
