/**
 * v2 watchers and the event history they replay from (etcd's v2store/watcher_hub.go,
 * watcher.go, event_history.go): the last {@link HISTORY_EVENTS} events are kept; a watch from
 * an index still in history is answered from it at once, one from an older index fails with
 * `401 The event in requested index is outdated and cleared`, a watch from a future index waits.
 * Watchers are keyed by path; an event notifies the watchers of its key and of every ancestor
 * (recursive ones, or any watcher when its key was deleted under it), except where the part
 * below the watched path is hidden (`/_x`). A non-stream watcher is removed after one event; a
 * watcher whose queue holds {@link WATCHER_QUEUE_EVENTS} undelivered events is dropped, as
 * etcd's full channel drops it.
 */
import { V2Code, V2Error } from "./errors.ts";
import { eventIndex, type V2Event } from "./event.ts";
import { cleanPath } from "./path.ts";

/** Events kept for watches from a past index (etcd's newWatchHub(1000)). */
export const HISTORY_EVENTS = 1000;
/** Events a watcher may hold undelivered (etcd's eventChan buffer). */
export const WATCHER_QUEUE_EVENTS = 100;

/** One watch: events arrive through {@link next}; `remove()` ends it. */
export class V2Watcher {
  private readonly queue: V2Event[] = [];
  private waiting: ((e: V2Event | undefined) => void) | undefined;
  /** Set once removed: {@link next} then answers undefined after the queued events. */
  removed = false;
  /** Unlinks from the hub (set by the hub when the watcher is registered). */
  unlink: (() => void) | undefined;

  constructor(
    readonly recursive: boolean,
    readonly stream: boolean,
    readonly sinceIndex: number,
    /** Store index when the watch started (the X-Etcd-Index of the answer). */
    readonly startIndex: number,
  ) {}

  /** The next event, or undefined once removed (and drained). */
  next(): Promise<V2Event | undefined> {
    const e = this.queue.shift();
    if (e || this.removed) return Promise.resolve(e);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Queues `e`; false when the queue is full (the hub then drops the watcher). */
  push(e: V2Event): boolean {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(e);
      return true;
    }
    if (this.queue.length >= WATCHER_QUEUE_EVENTS) return false;
    this.queue.push(e);
    return true;
  }

  /** Ends the watch (client gone, or dropped). */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.unlink?.();
    if (this.waiting && this.queue.length === 0) {
      const w = this.waiting;
      this.waiting = undefined;
      w(undefined);
    }
  }

  /** etcd's watcher.notify: whether this watcher takes `e` (seen at a watched `originalPath` or through a deletion). */
  wants(e: V2Event, originalPath: boolean, deleted: boolean): boolean {
    return (this.recursive || originalPath || deleted) && eventIndex(e) >= this.sinceIndex;
  }
}

/** The last events, oldest first (etcd's EventHistory with its ring buffer). */
export class EventHistory {
  /** A ring of `capacity` slots: the oldest event at `head`, `size` of them (a shift per event moved the whole array). */
  private events: V2Event[] = [];
  private head = 0;
  private size = 0;
  startIndex = 0;
  lastIndex = 0;

  constructor(private readonly capacity = HISTORY_EVENTS) {}

  add(e: V2Event): void {
    if (this.size < this.capacity) this.events[(this.head + this.size++) % this.capacity] = e;
    else {
      this.events[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
    }
    this.lastIndex = eventIndex(e);
    this.startIndex = eventIndex(this.at(0));
  }

  /** The `i`th event, oldest first. */
  private at(i: number): V2Event {
    return this.events[(this.head + i) % this.capacity]!;
  }

  /**
   * Replaces the history with `events` (oldest first) of a store loaded at `index` (start-up,
   * snapshot; etcd's Recovery restores its saved EventHistory). Only the run of consecutive
   * indexes ending at `index` is kept: a watch from before it, or from `index` or before when
   * there is none (a data dir written before the history was kept), fails with 401 as for events
   * pushed out of history, rather than waiting and silently missing those changes.
   */
  restore(events: V2Event[], index: number): void {
    let first = events.length;
    while (first > 0 && eventIndex(events[first - 1]!) === index - (events.length - first)) first--;
    const kept = events.slice(Math.max(first, events.length - this.capacity));
    this.events = kept;
    this.head = 0;
    this.size = kept.length;
    this.lastIndex = index;
    this.startIndex = kept.length > 0 ? eventIndex(kept[0]!) : index + 1;
  }

  /**
   * The first event at or after `index` that concerns `key` (recursive: anything under it; a
   * deleted or expired directory above it), undefined when none yet.
   * @throws V2Error 401 `the requested history has been cleared [start/index]` (index 0, set by the caller)
   */
  scan(key: string, recursive: boolean, index: number): V2Event | undefined {
    if (index < this.startIndex) {
      throw new V2Error(V2Code.EventIndexCleared, `the requested history has been cleared [${this.startIndex}/${index}]`, 0);
    }
    if (index > this.lastIndex) return undefined;
    let prefix = cleanPath(key);
    if (!prefix.endsWith("/")) prefix += "/";
    // Events are one index apart, as in etcd (every store change is one event).
    for (let i = index - this.startIndex; i < this.size; i++) {
      const e = this.at(i);
      if (e.refresh) continue;
      let ok = e.node.key === key || (recursive && e.node.key.startsWith(prefix));
      if ((e.action === "delete" || e.action === "expire") && e.prevNode?.dir) ok ||= key.startsWith(e.prevNode.key);
      if (ok) return e;
    }
    return undefined;
  }
}

/** Watchers by path plus the history (etcd's watcherHub). */
export class WatcherHub {
  private readonly watchers = new Map<string, Set<V2Watcher>>();
  readonly history = new EventHistory();
  /** Watchers registered now (`watchers` in /v2/stats/store). */
  count = 0;

  /** `recorded`: told of every event added to history (the store persists them). */
  constructor(private readonly recorded?: (e: V2Event) => void) {}

  /**
   * Watches `key` from `sinceIndex`; `storeIndex` is the store's index now.
   * @throws V2Error 401 when `sinceIndex` is older than the history
   */
  watch(key: string, recursive: boolean, stream: boolean, sinceIndex: number, storeIndex: number): V2Watcher {
    let event: V2Event | undefined;
    try {
      event = this.history.scan(key, recursive, sinceIndex);
    } catch (e) {
      if (e instanceof V2Error) e.index = storeIndex;
      throw e;
    }
    const w = new V2Watcher(recursive, stream, sinceIndex, storeIndex);
    if (event) {
      w.push({ ...event, etcdIndex: storeIndex });
      return w;
    }
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(w);
    this.count++;
    w.unlink = () => {
      if (!set.delete(w)) return;
      this.count--;
      if (set.size === 0 && this.watchers.get(key) === set) this.watchers.delete(key);
    };
    return w;
  }

  /** Records a TTL refresh in history without waking watchers (etcd's watcherHub.add). */
  add(e: V2Event): void {
    this.history.add(e);
    this.recorded?.(e);
  }

  /** Records `e` and notifies the watchers of its key and of every ancestor. */
  notify(e: V2Event): void {
    this.add(e);
    let curr = "/";
    this.notifyWatchers(e, curr, false);
    for (const segment of e.node.key.split("/")) {
      if (segment === "") continue;
      curr = curr === "/" ? `/${segment}` : `${curr}/${segment}`;
      this.notifyWatchers(e, curr, false);
    }
  }

  /** Notifies the watchers at `path` (`deleted`: `path` itself went away under a deleted directory). */
  notifyWatchers(e: V2Event, path: string, deleted: boolean): void {
    const set = this.watchers.get(path);
    if (!set) return;
    const originalPath = e.node.key === path;
    for (const w of [...set]) {
      if (!originalPath && isHidden(path, e.node.key)) continue;
      if (!w.wants(e, originalPath, deleted)) continue;
      const delivered = w.push(e);
      if (!delivered || !w.stream) w.remove();
    }
  }
}

/** True when the part of `keyPath` below `watchPath` has a hidden (`_`) component (etcd's isHidden). */
function isHidden(watchPath: string, keyPath: string): boolean {
  if (watchPath.length > keyPath.length) return false;
  return cleanPath("/" + keyPath.slice(watchPath.length)).includes("/_");
}
