/**
 * A set of watchers indexed by what they watch, so the watchers of a changed key are found
 * without looking at every watcher (etcd's `watcherGroup`, mvcc/watcher_group.go).
 *
 * Single-key watchers sit in a map by key. Range watchers (prefix, [key, end), from-key) are
 * grouped by identical interval; a lookup checks each distinct interval once, so it costs
 * O(distinct ranges + matching watchers). etcd keeps the ranges in an interval tree; here many
 * watchers on the same prefix (the common case: controllers and informers) share one entry.
 */
import type { Event } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { bytesToKey, type KeyInterval } from "../keys.ts";
import { EventBatch, intervalContains, type Watcher } from "./watcher.ts";

/** One distinct range and its watchers. */
interface RangeEntry {
  interval: KeyInterval;
  watchers: Set<Watcher>;
}

/** Identity of a range: keys are latin1 strings (chars <= U+00FF), so U+0100/U+0101 cannot clash. */
function rangeId(iv: KeyInterval): string {
  return `${iv.key}\u0100${iv.end ?? "\u0101"}`;
}

/** Watchers and their pending batches, per watcher (etcd's watcherBatch). */
export type WatcherBatch = Map<Watcher, EventBatch>;

/** Watchers indexed by key and by range. */
export class WatcherGroup {
  /** Every watcher of the group. */
  readonly watchers = new Set<Watcher>();
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly ranges = new Map<string, RangeEntry>();

  /** Number of watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /** Adds `w`; a watcher already in the group is left as it is. */
  add(w: Watcher): void {
    if (this.watchers.has(w)) return;
    this.watchers.add(w);
    if (w.interval.single) {
      let set = this.byKey.get(w.interval.key);
      if (!set) this.byKey.set(w.interval.key, (set = new Set()));
      set.add(w);
      return;
    }
    const id = rangeId(w.interval);
    let entry = this.ranges.get(id);
    if (!entry) this.ranges.set(id, (entry = { interval: w.interval, watchers: new Set() }));
    entry.watchers.add(w);
  }

  /** Removes `w`; returns whether it was in the group. */
  delete(w: Watcher): boolean {
    if (!this.watchers.delete(w)) return false;
    if (w.interval.single) {
      const set = this.byKey.get(w.interval.key)!;
      set.delete(w);
      if (set.size === 0) this.byKey.delete(w.interval.key);
      return true;
    }
    const id = rangeId(w.interval);
    const entry = this.ranges.get(id)!;
    entry.watchers.delete(w);
    if (entry.watchers.size === 0) this.ranges.delete(id);
    return true;
  }

  /** Whether `w` is in the group. */
  has(w: Watcher): boolean {
    return this.watchers.has(w);
  }

  /** Calls `fn` for every watcher whose interval holds `key` (binary string). */
  forEachWatching(key: string, fn: (w: Watcher) => void): void {
    const single = this.byKey.get(key);
    if (single) for (const w of single) fn(w);
    for (const entry of this.ranges.values()) {
      if (intervalContains(entry.interval, key)) for (const w of entry.watchers) fn(w);
    }
  }

  /**
   * Groups `events` (revision order) by the watchers that want them: an event goes to every
   * watcher watching its key whose `minRev` is at or below the event's revision
   * (etcd's newWatcherBatch).
   */
  batch(events: readonly Event[]): WatcherBatch {
    const wb: WatcherBatch = new Map();
    if (this.watchers.size === 0) return wb;
    if (events.length === 1) {
      // The common revision (one put): every watcher gets the same one-event batch, so the
      // fan-out allocates nothing per watcher here and the response bytes are encoded once
      // for all (server/api/watch-wire.ts). Batches are never changed once made.
      const ev = events[0]!;
      const rev = Number(ev.kv!.modRevision);
      let shared: EventBatch | undefined;
      this.forEachWatching(bytesToKey(ev.kv!.key), (w) => {
        if (rev < w.minRev) return;
        if (!shared) (shared = new EventBatch()).add(ev);
        wb.set(w, shared);
      });
      return wb;
    }
    for (const ev of events) {
      const rev = Number(ev.kv!.modRevision);
      this.forEachWatching(bytesToKey(ev.kv!.key), (w) => {
        if (rev < w.minRev) return;
        let eb = wb.get(w);
        if (!eb) wb.set(w, (eb = new EventBatch()));
        eb.add(ev);
      });
    }
    return wb;
  }

  /** Up to `max` watchers of the group (etcd's choose), in insertion order. */
  choose(max: number): Watcher[] {
    const out: Watcher[] = [];
    for (const w of this.watchers) {
      if (out.length >= max) break;
      out.push(w);
    }
    return out;
  }
}
