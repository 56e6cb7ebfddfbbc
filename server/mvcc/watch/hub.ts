/**
 * The watch hub: every watcher of the member, fed by committed writes (etcd's
 * `watchableStore`, mvcc/watchable_store.go).
 *
 * Watchers live in one of three places:
 * - `synced`: caught up with the store; each committed revision's events are handed to them at
 *   once by {@link WatchHub.notify} (called by the member after the COMMIT, in revision order).
 * - `unsynced`: behind the store (a start revision in the past, or back from being a victim).
 *   A sync pass reads their missing history from SQLite in bounded chunks
 *   ({@link HistoryReader}) and moves them to `synced` once caught up. A watcher whose start
 *   revision was compacted gets a compaction notice and leaves.
 * - `victims`: their stream's buffer was full when events came. They keep only the batch that
 *   did not fit; once it is delivered they go back to `unsynced` and catch up from the store.
 *   So a slow consumer costs one batch in memory, never a growing queue, and never holds
 *   back the others: the notify path does not wait for anyone.
 *
 * Guarantees (etcd's API guarantees): events in revision order, each delivered once, no gap
 * from the start revision on (within retained history), all events of a revision in one response.
 * Everything runs on the one JavaScript thread, so a watcher's move between groups never races
 * with a notify.
 */
import type { Event } from "../../../proto/gen/mvccpb/kv_pb.ts";
import type { KeyInterval } from "../keys.ts";
import type { HistoryReader } from "./history.ts";
import { WatcherGroup, type WatcherBatch } from "./watcher-group.ts";
import { EventBatch, Watcher, type EventFilter, type WatchSink } from "./watcher.ts";

/** What the hub reads from the MVCC store (MvccStore satisfies it). */
export interface WatchableStore {
  /** Current store revision. */
  readonly currentRevision: number;
  /** Last compaction revision; 0 = never compacted. */
  readonly compactRevision: number;
}

/** Tuning of the hub; every field has etcd's value as default. */
export interface WatchHubOptions {
  /** Pause between sync passes while unsynced watchers make no progress, ms (etcd: 100). */
  syncIntervalMs?: number;
  /** Pause between retries of victims, ms (etcd: 10). */
  victimRetryMs?: number;
  /** Most unsynced watchers caught up in one pass (etcd's maxWatchersPerSync: 512). */
  maxWatchersPerSync?: number;
  /** Most history rows read in one pass (bounds the memory of a catch-up), default 10 000. */
  historyChunkRows?: number;
  /** Timers of the sync and victim passes (the member's MemberEnv); default the runtime's. */
  timers?: HubTimers;
}

/** A cancellable one-shot timer source (server/node/env.ts MemberEnv satisfies it). */
export interface HubTimers {
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** The runtime's timers. */
const runtimeTimers: HubTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** Counts for tests and metrics (etcd's watcher/slow-watcher gauges). */
export interface WatchHubStats {
  synced: number;
  unsynced: number;
  victims: number;
  /** Events held in victims' pending batches. */
  victimEvents: number;
}

/** The hub; see the module doc. */
export class WatchHub {
  private readonly synced = new WatcherGroup();
  private readonly unsynced = new WatcherGroup();
  private readonly victims = new Set<Watcher>();
  private readonly syncIntervalMs: number;
  private readonly victimRetryMs: number;
  private readonly maxWatchersPerSync: number;
  private readonly historyChunkRows: number;
  private syncTimer: { cancel(): void } | undefined;
  private victimTimer: { cancel(): void } | undefined;
  private readonly timers: HubTimers;
  private readonly syncListeners = new Set<() => boolean>();
  private closed = false;

  /**
   * @param store current and compact revision
   * @param history reads past events from SQLite
   */
  constructor(
    private readonly store: WatchableStore,
    private readonly history: HistoryReader,
    options: WatchHubOptions = {},
  ) {
    this.syncIntervalMs = options.syncIntervalMs ?? 100;
    this.victimRetryMs = options.victimRetryMs ?? 10;
    this.maxWatchersPerSync = options.maxWatchersPerSync ?? 512;
    this.historyChunkRows = options.historyChunkRows ?? 10_000;
    this.timers = options.timers ?? runtimeTimers;
  }

  /** Watchers registered now (synced, unsynced and those waiting as victims): etcd's `watcherGauge`. */
  get watcherCount(): number {
    return this.synced.size + this.unsynced.size + this.victims.size;
  }

  /** Current store revision. */
  get currentRevision(): number {
    return this.store.currentRevision;
  }

  /**
   * Adds a watcher of `interval` from `startRev` (0 = from the next revision on; a revision
   * after the current one waits for it, etcd's watchableStore.watch). Responses go to `sink`.
   */
  watch(interval: KeyInterval, startRev: number, id: bigint, filters: readonly EventFilter[], sink: WatchSink): Watcher {
    const cur = this.store.currentRevision;
    const synced = startRev > cur || startRev === 0;
    const w = new Watcher(id, interval, synced ? Math.max(cur + 1, startRev) : startRev, filters, sink);
    if (synced) {
      this.synced.add(w);
    } else {
      this.unsynced.add(w);
      this.scheduleSync(0);
    }
    return w;
  }

  /** Removes `w` from the hub wherever it is; nothing is sent to it afterwards. */
  cancel(w: Watcher): void {
    w.canceled = true;
    this.synced.delete(w);
    this.unsynced.delete(w);
    if (this.victims.delete(w)) {
      w.victim = false;
      w.pending = undefined;
    }
  }

  /** Whether `w` is caught up (etcd sends progress only to synced watchers). */
  isSynced(w: Watcher): boolean {
    return this.synced.has(w);
  }

  /** Sends `w` a progress notice (no events, the current revision) if it is synced (watchableStore.progress). */
  progress(w: Watcher): void {
    if (this.synced.has(w)) w.send({ watchId: w.id, events: [], revision: this.store.currentRevision, compactRevision: 0 });
  }

  /**
   * Registers `check`, called after every sync and victim pass until it returns true (used to
   * answer a progress request once all of a stream's watchers are synced).
   */
  onSyncProgress(check: () => boolean): void {
    if (!check()) this.syncListeners.add(check);
  }

  /**
   * Hands the events of committed revision `rev` to the synced watchers (etcd's notify). Call
   * once per revision, in order, only after the write is durable. Watchers whose stream is
   * full become victims with this batch.
   */
  notify(rev: number, events: readonly Event[]): void {
    if (events.length === 0 || this.synced.size === 0) return;
    let victims = false;
    for (const [w, eb] of this.synced.batch(events)) {
      // Kept exact for synced watchers too: a snapshot restore re-reads history from here, and a
      // stale minRev would deliver the events since it twice (found by server/sim, seed 2222).
      w.minRev = rev + 1;
      if (w.send({ watchId: w.id, events: eb.events, revision: rev, compactRevision: 0 })) continue;
      this.synced.delete(w);
      this.makeVictim(w, eb);
      victims = true;
    }
    if (victims) this.scheduleVictims(0);
  }

  /**
   * After the store was replaced under the watchers (a Raft snapshot installed): every synced
   * watcher goes back to `unsynced` and catches up from the new store from its next revision
   * (etcd's watchableStore.Restore). Watchers ahead of the new store wait in `synced` again.
   */
  restore(): void {
    for (const w of [...this.synced.watchers]) {
      this.synced.delete(w);
      this.unsynced.add(w);
    }
    if (this.unsynced.size > 0) this.scheduleSync(0);
  }

  /** Retry victims soon: a stream has room again. */
  kick(): void {
    if (this.victims.size > 0) this.scheduleVictims(0);
  }

  /** Counts of watchers per state. */
  stats(): WatchHubStats {
    let victimEvents = 0;
    for (const w of this.victims) victimEvents += w.pending?.events.length ?? 0;
    return { synced: this.synced.size, unsynced: this.unsynced.size, victims: this.victims.size, victimEvents };
  }

  /** Stops the timers; watchers get nothing more. */
  close(): void {
    this.closed = true;
    this.syncTimer?.cancel();
    this.victimTimer?.cancel();
    this.syncListeners.clear();
  }

  private makeVictim(w: Watcher, eb: EventBatch): void {
    w.victim = true;
    w.pending = eb;
    this.victims.add(w);
  }

  private scheduleSync(delayMs: number): void {
    if (this.closed || this.syncTimer !== undefined) return;
    this.syncTimer = this.timers.setTimeout(() => {
      this.syncTimer = undefined;
      const before = this.unsynced.size;
      const progressed = this.syncWatchers();
      this.fireSyncListeners();
      if (this.unsynced.size > 0) this.scheduleSync(progressed || this.unsynced.size < before ? 0 : this.syncIntervalMs);
    }, delayMs);
  }

  private scheduleVictims(delayMs: number): void {
    if (this.closed) return;
    if (this.victimTimer !== undefined) {
      if (delayMs > 0) return;
      this.victimTimer.cancel();
    }
    this.victimTimer = this.timers.setTimeout(() => {
      this.victimTimer = undefined;
      this.moveVictims();
      this.fireSyncListeners();
      if (this.victims.size > 0) this.scheduleVictims(this.victimRetryMs);
    }, delayMs);
  }

  private fireSyncListeners(): void {
    for (const check of this.syncListeners) if (check()) this.syncListeners.delete(check);
  }

  /**
   * Delivers victims' pending batches (etcd's moveVictims); delivered ones go back to
   * `unsynced` (or `synced` when nothing newer was written meanwhile).
   */
  private moveVictims(): void {
    const cur = this.store.currentRevision;
    for (const w of [...this.victims]) {
      const eb = w.pending!;
      if (!w.send({ watchId: w.id, events: eb.events, revision: w.minRev - 1, compactRevision: 0 })) continue;
      this.victims.delete(w);
      w.victim = false;
      w.pending = undefined;
      if (eb.moreRev !== 0) w.minRev = eb.moreRev;
      if (w.minRev <= cur) {
        this.unsynced.add(w);
        this.scheduleSync(0);
      } else {
        this.synced.add(w);
      }
    }
  }

  /**
   * One catch-up pass over up to `maxWatchersPerSync` unsynced watchers (etcd's syncWatchers):
   * compacted ones get their notice; the rest get the history from the lowest `minRev` of the
   * chosen ones, in chunks of whole revisions. Returns whether anything moved forward.
   */
  private syncWatchers(): boolean {
    if (this.unsynced.size === 0) return false;
    const cur = this.store.currentRevision;
    // etcd's compactMainRev is -1 until the first compaction (only a negative start revision is below it).
    const compactRev = this.store.compactRevision > 0 ? this.store.compactRevision : -1;
    const chosen = new WatcherGroup();
    let minRev = Infinity;
    let progressed = false;
    for (const w of this.unsynced.choose(this.maxWatchersPerSync)) {
      if (w.minRev < compactRev) {
        // etcd: `w.minRev < compactRev` gets a compaction notice and is dropped; retried if full.
        if (w.send({ watchId: w.id, events: [], revision: 0, compactRevision: compactRev })) {
          w.compacted = true;
          this.unsynced.delete(w);
          progressed = true;
        }
        continue;
      }
      chosen.add(w);
      minRev = Math.min(minRev, w.minRev);
    }
    if (chosen.size === 0) return progressed;

    const { events, upTo } = this.history.read(minRev, cur, this.historyChunkRows);
    const wb: WatcherBatch = chosen.batch(events);
    for (const w of chosen.watchers) {
      const before = w.minRev;
      w.minRev = Math.max(w.minRev, upTo + 1);
      const eb = wb.get(w);
      if (!eb) {
        if (w.minRev > cur) {
          this.unsynced.delete(w);
          this.synced.add(w);
        }
        if (w.minRev !== before) progressed = true;
        continue;
      }
      progressed = true;
      if (eb.moreRev !== 0) w.minRev = eb.moreRev;
      this.unsynced.delete(w);
      if (!w.send({ watchId: w.id, events: eb.events, revision: w.minRev - 1, compactRevision: 0 })) {
        this.makeVictim(w, eb);
        this.scheduleVictims(this.victimRetryMs);
        continue;
      }
      if (w.minRev > cur) this.synced.add(w);
      else this.unsynced.add(w);
    }
    return progressed;
  }
}
