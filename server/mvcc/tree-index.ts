/**
 * The in-memory key index: every key's {@link KeyIndex}, ordered bytewise for range scans
 * (etcd's treeIndex over a google/btree, mvcc/index.go).
 *
 * Keys are binary strings (server/mvcc/keys.ts). A B+ tree (sorted-btree) serves ordered
 * scans in O(log n + k); a Map beside it serves single-key lookups in O(1).
 */
import SortedBTree from "sorted-btree";
import { KeyIndex } from "./key-index.ts";
import type { KeyInterval } from "./keys.ts";

/**
 * The BTree class. sorted-btree is CommonJS with `exports.default`: Bun's runtime hands the
 * class to a default import, but `bun build` of a `"type": "module"` package uses Node's interop,
 * where the default import is `module.exports` and the class is its `default`.
 */
const BTree: typeof SortedBTree = (SortedBTree as unknown as { default?: typeof SortedBTree }).default ?? SortedBTree;

/** Bytewise order of binary-string keys (code units are bytes). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ordered map of key -> revision history. */
export class TreeIndex {
  private readonly byKey = new Map<string, KeyIndex>();
  private readonly tree = new BTree<string, KeyIndex>(undefined, compareKeys);

  /** Number of keys with any history (live or deleted but not yet compacted). */
  get size(): number {
    return this.byKey.size;
  }

  /**
   * Keys whose last generation holds a revision (not deleted): etcd's `keysGauge`. Walks the
   * index (no allocation); meant for scrape time, not for requests.
   */
  countLive(): number {
    let n = 0;
    for (const ki of this.byKey.values()) {
      const g = ki.generations;
      if (g.length > 0 && g[g.length - 1]!.mains.length > 0) n++;
    }
    return n;
  }

  /** History of `key`, or undefined when the index has none. */
  get(key: string): KeyIndex | undefined {
    return this.byKey.get(key);
  }

  /** History of `key`, created (and inserted) when missing; `created` tells which. */
  getOrCreate(key: string): { ki: KeyIndex; created: boolean } {
    let ki = this.byKey.get(key);
    if (ki) return { ki, created: false };
    ki = new KeyIndex(key);
    this.byKey.set(key, ki);
    this.tree.set(key, ki);
    return { ki, created: true };
  }

  /** Drops `key` and its history (compaction emptied it, or a failed write is undone). */
  remove(key: string): void {
    if (this.byKey.delete(key)) this.tree.delete(key);
  }

  /**
   * Calls `fn` for each key history in the interval, in key order (treeIndex.visit).
   * A single-key interval visits at most that key; [key, end) with end <= key visits nothing.
   */
  visit(iv: KeyInterval, fn: (ki: KeyIndex) => void): void {
    if (iv.single) {
      const ki = this.byKey.get(iv.key);
      if (ki) fn(ki);
      return;
    }
    if (iv.end === undefined) {
      const max = this.tree.maxKey();
      if (max === undefined || max < iv.key) return;
      this.tree.forRange(iv.key, max, true, (_k, ki) => {
        fn(ki);
      });
      return;
    }
    if (iv.end <= iv.key) return;
    this.tree.forRange(iv.key, iv.end, false, (_k, ki) => {
      fn(ki);
    });
  }

  /** Every key history in key order. */
  forEach(fn: (ki: KeyIndex) => void): void {
    this.tree.forEachPair((_k, ki) => {
      fn(ki);
    });
  }

  /**
   * Compacts, at `atRev`, the histories of at most `maxKeys` keys from `fromKey` (inclusive) on,
   * in key order, and removes keys left empty; pushes the row ids no longer backing any
   * revision onto `removed`. Returns the key to continue from, or undefined when the last key
   * was done. A compaction in steps lets the member answer between them; keys written
   * meanwhile only gain revisions above `atRev`, which compaction keeps.
   */
  compactSome(atRev: number, fromKey: string, maxKeys: number, removed: number[]): string | undefined {
    const max = this.tree.maxKey();
    if (max === undefined || max < fromKey) return undefined;
    const emptied: string[] = [];
    let done = 0;
    let next: string | undefined;
    this.tree.forRange(fromKey, max, true, (key, ki) => {
      if (done === maxKeys) {
        next = key;
        return { break: true };
      }
      ki.compact(atRev, removed, true);
      if (ki.isEmpty()) emptied.push(key);
      done++;
      return undefined;
    });
    for (const key of emptied) this.remove(key);
    return next;
  }

  /**
   * Compacts every history at `atRev` (treeIndex.Compact) and removes keys left empty.
   * Returns the row ids of the `kv` table that no longer back any revision. With `apply`
   * false, only computes that list and changes nothing.
   */
  compact(atRev: number, apply: boolean): number[] {
    const removed: number[] = [];
    const emptied: string[] = [];
    this.tree.forEachPair((key, ki) => {
      ki.compact(atRev, removed, apply);
      if (apply && ki.isEmpty()) emptied.push(key);
    });
    for (const key of emptied) this.remove(key);
    return removed;
  }
}
