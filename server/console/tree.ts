/**
 * The keys tree of the web console, as pure functions (no DOM, no network): a page of keys under
 * a prefix (one Range with `limit`, keys only) is grouped into folders (the next `/`-separated
 * segment) and keys; the next page starts after the last entry, past the whole folder when the
 * last entry is one, so a prefix with 100,000 keys in a few folders takes a few small pages.
 * Counts come from `count_only` Ranges over each folder's prefix.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Text of UTF-8 bytes (invalid sequences become U+FFFD). */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/**
 * The range end covering every key that starts with `prefix` (etcd's clientv3 GetPrefixRangeEnd):
 * the prefix with its last byte below 0xff incremented and what follows dropped; `[0]` (all keys
 * from the start) for an empty prefix or one of only 0xff bytes.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i]! += 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/** One row of the tree: a folder (keys sharing `prefix`) or a key. `name` is the part after the parent prefix. */
export type TreeEntry = { kind: "folder"; name: string; prefix: string } | { kind: "key"; name: string; key: string };

/**
 * Groups sorted `keys` (all starting with `prefix`) into entries: a key whose rest after `prefix`
 * contains `/` belongs to the folder `prefix + rest-up-to-and-including-the-first-/` (listed once);
 * other keys are leaves. Order is kept (keys are sorted by bytes, so a folder's keys are adjacent).
 */
export function groupPage(prefix: string, keys: readonly string[]): TreeEntry[] {
  const out: TreeEntry[] = [];
  for (const key of keys) {
    if (!key.startsWith(prefix)) throw new Error(`key ${JSON.stringify(key)} is not under ${JSON.stringify(prefix)}`);
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) {
      out.push({ kind: "key", name: rest, key });
      continue;
    }
    const name = rest.slice(0, slash + 1);
    const last = out[out.length - 1];
    if (last?.kind === "folder" && last.name === name) continue;
    out.push({ kind: "folder", name, prefix: prefix + name });
  }
  return out;
}

/** A Range request for one page of the tree (etcdserverpb.RangeRequest fields). */
export interface PageRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  limit: bigint;
  keysOnly: true;
}

/**
 * The Range for the page of `prefix` that starts at `from` (inclusive; the prefix itself for the
 * first page): keys only, `limit` of them, sorted by key (the Range default).
 */
export function pageRequest(prefix: string, from: Uint8Array | undefined, limit: number): PageRequest {
  const p = utf8(prefix);
  return { key: from ?? (p.length === 0 ? new Uint8Array([0]) : p), rangeEnd: prefixEnd(p), limit: BigInt(limit), keysOnly: true };
}

/**
 * Where the page after `entries` starts: past every key of the last folder (its prefix end), or
 * just after the last key (the key followed by a 0 byte). Undefined for an empty page.
 */
export function nextPageStart(entries: readonly TreeEntry[]): Uint8Array | undefined {
  const last = entries[entries.length - 1];
  if (!last) return undefined;
  if (last.kind === "folder") return prefixEnd(utf8(last.prefix));
  const k = utf8(last.key);
  const next = new Uint8Array(k.length + 1);
  next.set(k);
  return next;
}

/**
 * Whether there may be more entries after a page: the Range said `more`, and the next start is
 * still below the range end (a folder whose prefix end reaches the range end ends the listing).
 */
export function hasNextPage(more: boolean, next: Uint8Array | undefined, rangeEnd: Uint8Array): boolean {
  if (!more || !next) return false;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return true;
  return compareBytes(next, rangeEnd) < 0;
}

/** Byte-wise order of two keys (etcd's key order): negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
