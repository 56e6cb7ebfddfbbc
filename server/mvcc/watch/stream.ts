/**
 * One client watch stream: the watchers a client created on one `Watch` call and the ordered
 * queue of `WatchResponse`s going back to it. Mirrors etcd's mvcc `watchStream`
 * (mvcc/watcher.go) together with the response side of `serverWatchStream`
 * (etcdserver/api/v3rpc/watch.go): create/cancel/progress handling, prev_kv lookup,
 * fragmenting and periodic progress notifications.
 *
 * Ordering: control responses (created, canceled, progress) and event responses share one
 * FIFO queue, so a watcher's `created` always precedes its events and `canceled` follows them.
 *
 * Memory: event responses count against a byte budget ({@link WatchStreamOptions.bufferBytes}).
 * When the budget is used up the hub's delivery fails and the watcher becomes a victim (it
 * keeps one batch and later catches up from the store), so a client that does not read
 * holds at most the budget (plus one response) here, however much is written.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type ResponseHeader,
  type WatchCreateRequest,
  WatchCreateRequest_FilterType,
  type WatchResponse,
  WatchResponseSchema,
} from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { type Event, Event_EventType, type KeyValue } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { keyInterval, type KeyInterval } from "../keys.ts";
import type { WatchHub } from "./hub.ts";
import { filterNoDelete, filterNoPut, type EventFilter, type HubResponse, type Watcher, type WatchSink } from "./watcher.ts";

/** etcd's `clientv3.InvalidWatchID`: the watch ID of failed creates and stream-wide progress responses. */
export const INVALID_WATCH_ID = -1n;

/** etcd's cancel reasons (mvcc/watcher.go). */
export const WatchErrors = {
  emptyRange: "mvcc: watcher range is empty",
  duplicateId: "mvcc: duplicate watch ID provided on the WatchStream",
} as const;

/** Default event budget of one stream's queue, bytes (estimated from key and value sizes). */
export const DEFAULT_STREAM_BUFFER_BYTES = 4 * 1024 * 1024;
/** etcd's default progress notification interval: 10 minutes, in ms. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 10 * 60 * 1000;
/** Rough per-event cost besides key and value bytes, for the budget. */
const EVENT_OVERHEAD = 64;

/** What a stream needs from its member. */
export interface WatchStreamOptions {
  /** The member's hub. */
  hub: WatchHub;
  /** A response header (cluster, member, raft term) carrying store revision `revision`; may be shared, never mutated. */
  header(revision: number): ResponseHeader;
  /** The KeyValue of `key` at `revision`, undefined when absent or compacted (for prev_kv). */
  prevKv(key: Uint8Array, revision: number): KeyValue | undefined;
  /** Responses at least this large (bytes) are split for watchers that asked for `fragment`. */
  maxResponseBytes: number;
  /** Event budget of the queue, bytes; default {@link DEFAULT_STREAM_BUFFER_BYTES}. */
  bufferBytes?: number;
  /** Period of progress notifications for `progress_notify` watchers, ms (etcd: 10 min + up to 10% jitter). */
  progressIntervalMs?: number;
  /** Called once when the stream closes (the member counts its open streams). */
  onClose?: () => void;
  /**
   * Timer and randomness of the progress ticker (the member's MemberEnv: `setInterval`, and
   * `random(n)` an integer in [0, n) for the jitter); default the runtime's and Math.random.
   */
  env?: StreamEnv;
}

/** What a stream needs from its member's environment (server/node/env.ts MemberEnv satisfies it). */
export interface StreamEnv {
  setInterval(fn: () => void, ms: number): { cancel(): void };
  random(n: number): number;
}

/** The runtime's timer (not keeping the process alive) and Math.random. */
const runtimeEnv: StreamEnv = {
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return { cancel: () => clearInterval(t) };
  },
  random: (n) => Math.floor(Math.random() * n),
};

/** A watcher as its stream sees it: the hub watcher plus the per-watch options of the create request. */
interface StreamWatcher {
  watcher: Watcher;
  prevKv: boolean;
  fragment: boolean;
  progressNotify: boolean;
  /** etcd's `progress[id]`: true when no events were sent since the last tick. */
  progressDue: boolean;
}

/** A queued response: a control response, or a hub response still to be turned into one. */
type Item = { ctrl: WatchResponse } | { hub: HubResponse; sw: StreamWatcher | undefined; bytes: number };

/** Estimated budget cost of a hub response. */
function responseBytes(r: HubResponse): number {
  let n = EVENT_OVERHEAD;
  for (const ev of r.events) n += ev.kv!.key.length + ev.kv!.value.length + EVENT_OVERHEAD;
  return n;
}

/** Whether `ev` created its key (etcd's isCreateEvent: no previous KeyValue to look up). */
function isCreateEvent(ev: Event): boolean {
  return ev.type === Event_EventType.PUT && ev.kv!.createRevision === ev.kv!.modRevision;
}

/**
 * Splits `wr` into fragments below `maxBytes` (etcd's sendFragments): unless it is smaller or
 * holds fewer than two events it is sent as several responses with the same header and watch
 * ID, each but the last with `fragment` set; a fragment holds at least one event.
 */
export function fragmentResponse(wr: WatchResponse, maxBytes: number): WatchResponse[] {
  if (wr.events.length < 2) return [wr];
  // Each event's share of the response: the encoding of a response holding only that event.
  const sizes = wr.events.map((ev) => toBinary(WatchResponseSchema, create(WatchResponseSchema, { events: [ev] })).length);
  const base = toBinary(WatchResponseSchema, { ...wr, events: [], fragment: true }).length;
  if (base + sizes.reduce((a, b) => a + b, 0) < maxBytes) return [wr];
  const out: WatchResponse[] = [];
  let i = 0;
  while (i < wr.events.length) {
    let size = base;
    const start = i;
    while (i < wr.events.length) {
      size += sizes[i]!;
      if (i > start && size >= maxBytes) break;
      i++;
    }
    out.push(create(WatchResponseSchema, { ...wr, events: wr.events.slice(start, i), fragment: i < wr.events.length }));
  }
  return out;
}

/** Builds the hub filter list of a create request (FiltersFromRequest; unknown values ignored). */
function filtersOf(req: WatchCreateRequest): EventFilter[] {
  const out: EventFilter[] = [];
  for (const f of req.filters) {
    if (f === WatchCreateRequest_FilterType.NOPUT) out.push(filterNoPut);
    else if (f === WatchCreateRequest_FilterType.NODELETE) out.push(filterNoDelete);
  }
  return out;
}

/** The key interval of a create request, as etcd's recvLoop normalises it (empty key = "\0"). */
function createInterval(req: WatchCreateRequest): KeyInterval {
  const key = req.key.length === 0 ? new Uint8Array([0]) : req.key;
  return keyInterval(key, req.rangeEnd);
}

/** A client watch stream; see the module doc. */
export class WatchStream implements WatchSink {
  private readonly watchers = new Map<bigint, StreamWatcher>();
  private readonly byWatcher = new Map<Watcher, StreamWatcher>();
  private nextId = 0n;
  private queue: Item[] = [];
  private head = 0;
  private outbox: WatchResponse[] = [];
  private queuedBytes = 0;
  private refused = false;
  private wake: (() => void) | undefined;
  private progressPending = false;
  private closed = false;
  private readonly budget: number;
  private readonly ticker: { cancel(): void } | undefined;

  /** Opens a stream on `opts.hub`; call {@link close} when the client goes away. */
  constructor(private readonly opts: WatchStreamOptions) {
    this.budget = opts.bufferBytes ?? DEFAULT_STREAM_BUFFER_BYTES;
    const interval = opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    if (interval > 0) {
      const env = opts.env ?? runtimeEnv;
      const jittered = interval + env.random(Math.max(1, Math.floor(interval / 10)));
      this.ticker = env.setInterval(() => this.progressTick(), jittered);
    }
  }

  /** Number of watchers on the stream. */
  get size(): number {
    return this.watchers.size;
  }

  /** Event bytes (estimated) and responses waiting in the queue. */
  get queued(): { bytes: number; responses: number } {
    return { bytes: this.queuedBytes, responses: this.queue.length - this.head + this.outbox.length };
  }

  /**
   * Handles a WatchCreateRequest (etcd's recvLoop + watchStream.Watch): queues
   * `created` with the new watch ID and the current revision, or, for an empty range
   * (key >= range_end) or a watch_id already in use, `created` + `canceled` with watch ID -1
   * and etcd's cancel_reason. watch_id 0 asks for a server-assigned ID (the lowest free one
   * counting from 0). start_revision 0 watches from the next revision.
   */
  create(req: WatchCreateRequest): void {
    if (this.closed) return;
    const rev = this.opts.hub.currentRevision;
    const interval = createInterval(req);
    const fail = (reason: string) =>
      this.push({ ctrl: create(WatchResponseSchema, { header: this.opts.header(rev), watchId: INVALID_WATCH_ID, created: true, canceled: true, cancelReason: reason }) });
    if (!interval.single && interval.end !== undefined && interval.key >= interval.end) return fail(WatchErrors.emptyRange);
    let id = req.watchId;
    if (id === 0n) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id)) {
      return fail(WatchErrors.duplicateId);
    }
    const start = Number(req.startRevision);
    const watcher = this.opts.hub.watch(interval, start === 0 ? rev + 1 : start, id, filtersOf(req), this);
    const sw: StreamWatcher = { watcher, prevKv: req.prevKv, fragment: req.fragment, progressNotify: req.progressNotify, progressDue: true };
    this.watchers.set(id, sw);
    this.byWatcher.set(watcher, sw);
    this.push({ ctrl: create(WatchResponseSchema, { header: this.opts.header(rev), watchId: id, created: true }) });
  }

  /**
   * Answers a create request refused before it reached the stream (permission, in etcd's
   * recvLoop): queues `created` + `canceled` with watch ID -1 and `reason` as cancel_reason.
   */
  refuse(reason: string): void {
    if (this.closed) return;
    const rev = this.opts.hub.currentRevision;
    this.push({ ctrl: create(WatchResponseSchema, { header: this.opts.header(rev), watchId: INVALID_WATCH_ID, created: true, canceled: true, cancelReason: reason }) });
  }

  /** Handles a WatchCancelRequest: removes the watcher and queues `canceled`; unknown IDs are ignored, as in etcd. */
  cancel(id: bigint): void {
    const sw = this.watchers.get(id);
    if (!sw || this.closed) return;
    this.drop(sw);
    this.push({ ctrl: create(WatchResponseSchema, { header: this.opts.header(this.opts.hub.currentRevision), watchId: id, canceled: true }) });
  }

  /**
   * Handles a WatchProgressRequest (etcd 3.5 semantics): once every watcher of the stream is
   * synced, queues a response with watch ID -1, no events, and the current revision; all
   * events up to that revision precede it. A request while one is pending is ignored.
   */
  requestProgress(): void {
    if (this.closed || this.progressPending) return;
    this.progressPending = true;
    this.opts.hub.onSyncProgress(() => {
      if (this.closed) return true;
      for (const sw of this.watchers.values()) if (!this.opts.hub.isSynced(sw.watcher)) return false;
      this.progressPending = false;
      this.push({ ctrl: create(WatchResponseSchema, { header: this.opts.header(this.opts.hub.currentRevision), watchId: INVALID_WATCH_ID }) });
      return true;
    });
  }

  /** WatchSink: queues a hub response unless the budget is used up (then false: the watcher becomes a victim). */
  deliver(w: Watcher, r: HubResponse): boolean {
    if (this.closed || w.canceled) return true;
    const sw = this.byWatcher.get(w);
    if (r.compactRevision !== 0 && sw) this.forget(sw);
    const bytes = r.events.length === 0 ? 0 : responseBytes(r);
    if (bytes > 0 && this.queuedBytes > 0 && this.queuedBytes + bytes > this.budget) {
      this.refused = true;
      return false;
    }
    this.queuedBytes += bytes;
    this.push({ hub: r, sw, bytes });
    return true;
  }

  /**
   * The next response for the client, waiting for one; undefined once the stream is closed
   * (or `signal` aborts).
   */
  async next(signal?: AbortSignal): Promise<WatchResponse | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const r = this.tryNext();
      if (r) return r;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      this.wake = undefined;
    }
  }

  /** The next response if one is ready now (for writers that batch several into one write). */
  tryNext(): WatchResponse | undefined {
    if (this.closed) return undefined;
    for (;;) {
      const out = this.outbox.shift();
      if (out) return out;
      const item = this.take();
      if (!item) return undefined;
      this.outbox = this.render(item);
    }
  }

  /** Whether the stream was closed (by the client going away or the member stopping). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the stream: cancels every watcher in the hub and ends {@link next}. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ticker?.cancel();
    for (const sw of this.watchers.values()) this.opts.hub.cancel(sw.watcher);
    this.watchers.clear();
    this.byWatcher.clear();
    this.queue = [];
    this.head = 0;
    this.outbox = [];
    this.queuedBytes = 0;
    this.wake?.();
    this.opts.onClose?.();
  }

  private push(item: Item): void {
    this.queue.push(item);
    // One wake-up per burst: the reader drains everything queued by then.
    const wake = this.wake;
    if (wake) {
      this.wake = undefined;
      wake();
    }
  }

  private take(): Item | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as Item;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if ("hub" in item) {
      this.queuedBytes -= item.bytes;
      if (this.refused && this.queuedBytes <= this.budget / 2) {
        this.refused = false;
        this.opts.hub.kick();
      }
    }
    return item;
  }

  /** Turns a queued item into the response(s) to send (etcd's sendLoop). */
  private render(item: Item): WatchResponse[] {
    if ("ctrl" in item) return [item.ctrl];
    const { hub: r, sw } = item;
    let events = r.events;
    if (sw?.prevKv) {
      events = events.map((ev) => {
        if (isCreateEvent(ev)) return ev;
        const prevKv = this.opts.prevKv(ev.kv!.key, Number(ev.kv!.modRevision) - 1);
        return prevKv ? { ...ev, prevKv } : ev;
      });
    }
    if (sw && events.length > 0) sw.progressDue = false;
    // A literal rather than create(): this runs once per watcher per event.
    const wr: WatchResponse = {
      $typeName: "etcdserverpb.WatchResponse",
      header: this.opts.header(r.revision),
      watchId: r.watchId,
      created: false,
      canceled: r.compactRevision !== 0,
      compactRevision: BigInt(r.compactRevision),
      cancelReason: "",
      fragment: false,
      events,
    };
    return sw?.fragment ? fragmentResponse(wr, this.opts.maxResponseBytes) : [wr];
  }

  /** Removes a watcher from the stream and the hub. */
  private drop(sw: StreamWatcher): void {
    this.opts.hub.cancel(sw.watcher);
    this.forget(sw);
  }

  private forget(sw: StreamWatcher): void {
    this.watchers.delete(sw.watcher.id);
    this.byWatcher.delete(sw.watcher);
  }

  /** etcd's progress ticker: watchers with progress_notify and no events since the last tick get a progress notice. */
  private progressTick(): void {
    for (const sw of this.watchers.values()) {
      if (!sw.progressNotify) continue;
      if (sw.progressDue) this.opts.hub.progress(sw.watcher);
      sw.progressDue = true;
    }
  }
}
