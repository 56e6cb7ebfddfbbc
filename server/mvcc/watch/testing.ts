/**
 * Helpers for the watch hub tests: a store + hub on a temporary data dir where every write is
 * committed and then notified, as the member does, and compact views of watch responses.
 */
import { create } from "@bufbuild/protobuf";
import { ResponseHeaderSchema, WatchCreateRequestSchema, type WatchCreateRequest, type WatchResponse } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { b, deleteReq, putReq, rangeReq, str, TempStore } from "../testing.ts";
import type { WriteResult } from "../store.ts";
import { HistoryReader } from "./history.ts";
import { WatchHub, type WatchHubOptions } from "./hub.ts";
import { WatchStream, type WatchStreamOptions } from "./stream.ts";

/** A store and a hub over it; `put`/`del`/`compact` commit and notify like EtcdNode. */
export class WatchFixture {
  readonly t = new TempStore();
  readonly hub: WatchHub;
  private readonly streams: WatchStream[] = [];

  /** @param options hub tuning */
  constructor(options: WatchHubOptions = {}) {
    this.hub = new WatchHub(this.t.store, new HistoryReader(this.t.db), options);
  }

  private commit<R>(fn: () => WriteResult<R>): number {
    const { events } = this.t.db.transaction(fn)();
    const rev = this.t.store.currentRevision;
    this.hub.notify(rev, events);
    return rev;
  }

  /** Puts latin1 `key` = `value`; returns the new revision. */
  put(key: string, value: string): number {
    return this.commit(() => this.t.store.put(putReq(key, value)));
  }

  /** Deletes `key` (or [key, end)); returns the revision after. */
  del(key: string, end = ""): number {
    return this.commit(() => this.t.store.deleteRange(deleteReq(key, end)));
  }

  /** Compacts at `rev`. */
  compact(rev: number): void {
    this.t.db.transaction(() => this.t.store.compact(rev))();
  }

  /** Opens a stream on the hub (closed by {@link cleanup}). */
  stream(options: Partial<WatchStreamOptions> = {}): WatchStream {
    const s = new WatchStream({
      hub: this.hub,
      header: (revision) => create(ResponseHeaderSchema, { clusterId: 1n, memberId: 2n, revision: BigInt(revision), raftTerm: 2n }),
      prevKv: (key, revision) => {
        try {
          return this.t.store.range(rangeReq(str(key), "", { revision: BigInt(revision) })).kvs[0];
        } catch {
          return undefined;
        }
      },
      maxResponseBytes: 1 << 20,
      ...options,
    });
    this.streams.push(s);
    return s;
  }

  /** Closes streams and the hub and removes the data dir. */
  cleanup(): void {
    for (const s of this.streams) s.close();
    this.hub.close();
    this.t.cleanup();
  }
}

/** A create request for latin1 `key` / `rangeEnd`. */
export function createReq(key: string, rangeEnd = "", extra: Partial<Omit<WatchCreateRequest, "key" | "rangeEnd" | "$typeName">> = {}): WatchCreateRequest {
  return create(WatchCreateRequestSchema, { key: b(key), rangeEnd: b(rangeEnd), ...extra });
}

/** Latin1 key just past every key starting with `prefix` (clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: string): string {
  const codes = [...prefix].map((c) => c.charCodeAt(0));
  for (let i = codes.length - 1; i >= 0; i--) {
    if (codes[i]! < 0xff) return String.fromCharCode(...codes.slice(0, i), codes[i]! + 1);
  }
  return "\0";
}

/** Next response of `s`, or throws after `ms` milliseconds. */
export async function nextWithin(s: WatchStream, ms = 2000): Promise<WatchResponse> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const r = await s.next(ac.signal);
  clearTimeout(timer);
  if (!r) throw new Error(`no watch response within ${ms} ms`);
  return r;
}

/** Compact event view: "PUT key=value@rev" / "DELETE key@rev". */
export function eventStrings(r: WatchResponse): string[] {
  return r.events.map((ev) =>
    ev.type === Event_EventType.DELETE
      ? `DELETE ${str(ev.kv!.key)}@${ev.kv!.modRevision}`
      : `PUT ${str(ev.kv!.key)}=${str(ev.kv!.value)}@${ev.kv!.modRevision}`,
  );
}

/** Reads responses of `s` until `n` events arrived (or throws after `ms` without one); returns them in order. */
export async function collectEvents(s: WatchStream, n: number, ms = 5000): Promise<{ events: string[]; responses: WatchResponse[] }> {
  const events: string[] = [];
  const responses: WatchResponse[] = [];
  while (events.length < n) {
    const r = await nextWithin(s, ms);
    responses.push(r);
    events.push(...eventStrings(r));
  }
  return { events, responses };
}
