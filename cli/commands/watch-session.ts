/**
 * The client side of etcd watches as clientv3 runs them for etcdctl (clientv3/watch.go): all
 * watchers share one `Watch` bidi stream; `created` answers come in request order and give each
 * watcher its ID; events, progress notices and cancellations are routed by watch ID (ID -1: a
 * progress answer for every watcher). When the stream breaks (server restart, network), the
 * session reconnects (trying the endpoints in turn) and re-creates every open watcher from the
 * revision after the last one it saw, so nothing is missed and nothing is repeated.
 */
import { create } from "@bufbuild/protobuf";
import { type WatchRequest, WatchRequestSchema, type WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Services } from "../client.ts";
import { RequestQueue } from "../request-queue.ts";

/** What to watch: etcd's WatchCreateRequest fields that etcdctl sets. */
export interface WatchTarget {
  key: Uint8Array;
  /** Empty: the key alone; `\0`: every key >= key; else [key, rangeEnd). */
  rangeEnd: Uint8Array;
  /** First revision to deliver; 0 = from the next write on. */
  rev: bigint;
  prevKv: boolean;
  progressNotify: boolean;
}

/** One watcher of the session. */
export interface WatchHandle {
  /** 0, 1, 2... in the order the watchers were added (the server's IDs on a fresh stream). */
  readonly index: number;
  readonly target: WatchTarget;
  /** Revision to resume from after a reconnect (0 until known). */
  nextRev: bigint;
  /** Current watch ID on the stream, once created. */
  id: bigint | undefined;
  /** No more responses will come (canceled by the server or by us). */
  closed: boolean;
  /** We asked to cancel it: its `canceled` answer is not shown. */
  canceling: boolean;
}

/** Callbacks of a session. */
export interface WatchListener {
  /** A response for `h` as clientv3 hands it to etcdctl (events, progress, cancellation). */
  response(h: WatchHandle, r: WatchResponse): void;
  /** `h` will get nothing more (its channel closed). */
  closed(h: WatchHandle): void;
}

/** Pause before reconnecting a broken stream, ms. */
const RECONNECT_PAUSE_MS = 300;

/** A set of watchers over one (re)connecting stream; see the module doc. */
export class WatchSession {
  private readonly handles: WatchHandle[] = [];
  private readonly byId = new Map<bigint, WatchHandle>();
  private pendingCreates: WatchHandle[] = [];
  private queue: RequestQueue<WatchRequest> | undefined;
  private readonly abort = new AbortController();
  private wakeRun: (() => void) | undefined;

  /**
   * @param connect the services of the endpoint for connection attempt `n` (0, 1, 2...)
   * @param listener where responses go
   */
  constructor(
    private readonly connect: (attempt: number) => Promise<Services>,
    private readonly listener: WatchListener,
  ) {}

  /** Adds a watcher; it is created on the current stream (or the next one). */
  watch(target: WatchTarget): WatchHandle {
    const h: WatchHandle = { index: this.handles.length, target, nextRev: target.rev, id: undefined, closed: false, canceling: false };
    this.handles.push(h);
    if (this.queue) this.sendCreate(h);
    this.wakeRun?.();
    return h;
  }

  /** Cancels the watcher added as number `index`; false when there is no such open watcher. */
  cancel(index: number): boolean {
    const h = this.handles[index];
    if (!h || h.closed) return false;
    h.canceling = true;
    if (h.id !== undefined && this.queue) {
      this.queue.push(create(WatchRequestSchema, { requestUnion: { case: "cancelRequest", value: { watchId: h.id } } }));
    } else {
      this.close(h);
    }
    return true;
  }

  /** Asks the server for a progress notice for every watcher (clientv3 RequestProgress). */
  requestProgress(): void {
    this.queue?.push(create(WatchRequestSchema, { requestUnion: { case: "progressRequest", value: {} } }));
  }

  /** Whether any watcher is still open. */
  get open(): boolean {
    return this.handles.some((h) => !h.closed);
  }

  /**
   * Runs the stream until {@link stop}, or, with `untilAllClosed`, until every watcher is closed
   * (resolving at once when there are none).
   */
  async run(untilAllClosed: boolean): Promise<void> {
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      if (untilAllClosed && !this.open) return;
      if (!this.open) {
        await new Promise<void>((resolve) => (this.wakeRun = resolve));
        this.wakeRun = undefined;
        continue;
      }
      const queue = new RequestQueue<WatchRequest>();
      this.queue = queue;
      this.pendingCreates = [];
      this.byId.clear();
      for (const h of this.handles) if (!h.closed) this.sendCreate(h);
      try {
        const services = await this.connect(attempt);
        const responses = services.watch.watch(queue, { signal: this.abort.signal });
        for await (const r of responses) {
          this.dispatch(r);
          if (untilAllClosed && !this.open) break;
        }
      } catch {
        // broken stream or refused connection: reconnect below
      } finally {
        queue.close();
        this.queue = undefined;
        for (const h of this.handles) h.id = undefined;
      }
      if (untilAllClosed && !this.open) return;
      if (!this.abort.signal.aborted) await new Promise((resolve) => setTimeout(resolve, RECONNECT_PAUSE_MS));
    }
  }

  /** Ends {@link run} and the stream. */
  stop(): void {
    this.abort.abort();
    this.wakeRun?.();
  }

  private sendCreate(h: WatchHandle): void {
    const t = h.target;
    this.pendingCreates.push(h);
    this.queue!.push(
      create(WatchRequestSchema, {
        requestUnion: {
          case: "createRequest",
          value: { key: t.key, rangeEnd: t.rangeEnd, startRevision: h.nextRev, prevKv: t.prevKv, progressNotify: t.progressNotify },
        },
      }),
    );
  }

  private close(h: WatchHandle): void {
    if (h.closed) return;
    h.closed = true;
    if (h.id !== undefined) this.byId.delete(h.id);
    this.listener.closed(h);
  }

  /** Routes one response (clientv3's watchGrpcStream.dispatchEvent / serveSubstream). */
  private dispatch(r: WatchResponse): void {
    const rev = r.header?.revision ?? 0n;
    if (r.created) {
      const h = this.pendingCreates.shift();
      if (!h) return;
      if (r.canceled) {
        this.listener.response(h, r);
        this.close(h);
        return;
      }
      if (h.closed) {
        // Canceled before its ID was known: cancel it on the server now.
        this.queue?.push(create(WatchRequestSchema, { requestUnion: { case: "cancelRequest", value: { watchId: r.watchId } } }));
        return;
      }
      h.id = r.watchId;
      this.byId.set(r.watchId, h);
      if (h.nextRev === 0n) h.nextRev = rev + 1n;
      return;
    }
    if (r.watchId === -1n && r.events.length === 0 && !r.canceled) {
      for (const h of this.byId.values()) {
        if (rev + 1n > h.nextRev) h.nextRev = rev + 1n;
        this.listener.response(h, r);
      }
      return;
    }
    const h = this.byId.get(r.watchId);
    if (!h) return;
    if (r.canceled) {
      if (!h.canceling) this.listener.response(h, r);
      this.close(h);
      return;
    }
    const last = r.events.at(-1);
    if (last) h.nextRev = last.kv!.modRevision + 1n;
    else if (rev + 1n > h.nextRev) h.nextRev = rev + 1n;
    this.listener.response(h, r);
  }
}
