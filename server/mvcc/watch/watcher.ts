/**
 * One watcher of the watch hub and the event batches it is sent, mirroring etcd's `watcher`
 * (mvcc/watchable_store.go) and `eventBatch` (mvcc/watcher_group.go).
 */
import { type Event, Event_EventType } from "../../../proto/gen/mvccpb/kv_pb.ts";
import type { KeyInterval } from "../keys.ts";

/**
 * A response the hub hands to a watcher's stream (etcd's mvcc `WatchResponse`): the events
 * of one or more whole revisions, or none for a progress notification (`revision` only) or a
 * compaction notice (`compactRevision` non-zero: the watcher is canceled).
 */
export interface HubResponse {
  /** The watcher's ID on its stream (int64). */
  watchId: bigint;
  /** Events in revision order; empty for progress and compaction notices. */
  events: Event[];
  /** Store revision the response brings the watcher up to (the response header's revision). */
  revision: number;
  /**
   * Non-zero when the watcher's start revision was compacted away: the compact revision (-1
   * for a negative start revision on a never-compacted store, as etcd answers).
   */
  compactRevision: number;
}

/**
 * Where a watcher's responses go: its stream. `deliver` returns false when the stream's
 * buffer is full (etcd's non-blocking `w.ch <- wr` failing); the hub then keeps the batch
 * and retries (the watcher becomes a victim).
 */
export interface WatchSink {
  deliver(w: Watcher, r: HubResponse): boolean;
}

/** Event filter: true drops the event (etcd's FilterFunc; NOPUT drops PUTs, NODELETE DELETEs). */
export type EventFilter = (ev: Event) => boolean;

/** Drops PUT events (WatchCreateRequest filter NOPUT). */
export const filterNoPut: EventFilter = (ev) => ev.type === Event_EventType.PUT;
/** Drops DELETE events (WatchCreateRequest filter NODELETE). */
export const filterNoDelete: EventFilter = (ev) => ev.type === Event_EventType.DELETE;

/** Whether `key` (binary string, server/mvcc/keys.ts) is inside `iv`. */
export function intervalContains(iv: KeyInterval, key: string): boolean {
  if (iv.single) return key === iv.key;
  return key >= iv.key && (iv.end === undefined || key < iv.end);
}

/** A watcher: a key interval, the next revision it needs, its filters and its stream. */
export class Watcher {
  /** In the victims set: its stream was full; `pending` waits to be delivered. */
  victim = false;
  /** The batch a victim still has to deliver. */
  pending: EventBatch | undefined;
  /** Got its compaction notice and left the hub. */
  compacted = false;
  /** Canceled by its stream (or the stream closed). */
  canceled = false;

  /**
   * @param id watch ID on its stream
   * @param interval watched keys
   * @param minRev lowest revision not yet delivered to it
   * @param filters events it does not want
   * @param sink its stream
   */
  constructor(
    readonly id: bigint,
    readonly interval: KeyInterval,
    public minRev: number,
    readonly filters: readonly EventFilter[],
    readonly sink: WatchSink,
  ) {}

  /**
   * Filters `r.events` and delivers the response (etcd's `watcher.send`). A response whose
   * events were all filtered out is not sent and counts as delivered; a progress notice
   * (no events to begin with) is always sent. Returns false when the stream is full.
   */
  send(r: HubResponse): boolean {
    const progress = r.events.length === 0;
    if (this.filters.length > 0 && !progress) {
      const events = r.events.filter((ev) => !this.filters.some((f) => f(ev)));
      if (events.length === 0) return true;
      r = { ...r, events };
    }
    return this.sink.deliver(this, r);
  }
}

/** Most revisions in one batch (etcd's watchBatchMaxRevs); later ones are left for the next. */
export const WATCH_BATCH_MAX_REVS = 1000;

/**
 * Events for one watcher, at most {@link WATCH_BATCH_MAX_REVS} revisions (etcd's eventBatch).
 * When more revisions come, `moreRev` records the first one left out.
 */
export class EventBatch {
  readonly events: Event[] = [];
  /** Distinct revisions in `events`. */
  revs = 0;
  /** First revision that did not fit (0 = everything fit). */
  moreRev = 0;

  /** Appends `ev` (events must come in revision order). */
  add(ev: Event): void {
    if (this.revs > WATCH_BATCH_MAX_REVS) return;
    const rev = Number(ev.kv!.modRevision);
    if (this.events.length === 0) {
      this.revs = 1;
      this.events.push(ev);
      return;
    }
    if (rev > Number(this.events[this.events.length - 1]!.kv!.modRevision)) {
      this.revs++;
      if (this.revs > WATCH_BATCH_MAX_REVS) {
        this.moreRev = rev;
        return;
      }
    }
    this.events.push(ev);
  }
}
