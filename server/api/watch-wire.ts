/**
 * Protobuf encoding of WatchResponses for the raw gRPC Watch writer (server/api/watch-grpc.ts),
 * built for fan-out: one committed event goes to every watcher of its key, each in its own
 * response, usually in the very same events array (server/mvcc/watch/watcher-group.ts shares
 * it). So the events of an array are encoded once for all streams (cached per array, and per
 * Event object, in process-wide weak maps: committed events are never mutated), each header once
 * per revision (for all streams too), and the responses of one write are their header bytes,
 * watch IDs and those cached bytes copied into one buffer of gRPC frames. The bytes are exactly what `toBinary(WatchResponseSchema, r)` gives
 * (fields in number order, defaults left out).
 */
import { toBinary } from "@bufbuild/protobuf";
import { type WatchResponse, WatchResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { type Event, EventSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import type { PooledBuffer, WriteBufferPool } from "../http/write-buffer-pool.ts";
import { ResponseHeaderBytes, varintSize, writeVarint } from "./header-wire.ts";

/** Tag bytes of WatchResponse fields header (1, length-delimited), watch_id (2, varint), events (11, length-delimited). */
const TAG_HEADER = 0x0a;
const TAG_WATCH_ID = 0x10;
const TAG_EVENT = 0x5a;

/** Encoded Event, per Event object. */
const eventBytes = new WeakMap<Event, Uint8Array>();
/** Field 11 (tag, length, event) of every event of an array, concatenated, per array. */
const eventsFields = new WeakMap<readonly Event[], Uint8Array>();

function encodedEvent(ev: Event): Uint8Array {
  let b = eventBytes.get(ev);
  if (!b) {
    b = toBinary(EventSchema, ev);
    eventBytes.set(ev, b);
  }
  return b;
}

/** The events of a response as repeated field 11, cached per array. */
function encodedEvents(events: readonly Event[]): Uint8Array {
  let b = eventsFields.get(events);
  if (b) return b;
  const parts = events.map(encodedEvent);
  let size = 0;
  for (const p of parts) size += 1 + varintSize(p.length) + p.length;
  b = new Uint8Array(size);
  let pos = 0;
  for (const p of parts) {
    b[pos++] = TAG_EVENT;
    pos = writeVarint(b, pos, p.length);
    b.set(p, pos);
    pos += p.length;
  }
  eventsFields.set(events, b);
  return b;
}

/** Whether `r` takes the cached path: an event or progress response with a header and a watch ID in [0, 2^53). */
function isPlain(r: WatchResponse): boolean {
  const id = r.watchId;
  return r.header !== undefined && !r.created && !r.canceled && r.compactRevision === 0n && r.cancelReason === "" && !r.fragment && id >= 0n && id <= MAX_SAFE_ID;
}

const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes of a plain response's fields 1 and 2 (header, watch ID) and its events. */
function plainSize(header: Uint8Array, watchId: number, events: Uint8Array | undefined): number {
  return 1 + varintSize(header.length) + header.length + (watchId !== 0 ? 1 + varintSize(watchId) : 0) + (events?.length ?? 0);
}

/** Writes a plain response at `pos`; returns the position after it. */
function writePlain(out: Uint8Array, pos: number, header: Uint8Array, watchId: number, events: Uint8Array | undefined): number {
  out[pos++] = TAG_HEADER;
  pos = writeVarint(out, pos, header.length);
  out.set(header, pos);
  pos += header.length;
  if (watchId !== 0) {
    out[pos++] = TAG_WATCH_ID;
    pos = writeVarint(out, pos, watchId);
  }
  if (events) {
    out.set(events, pos);
    pos += events.length;
  }
  return pos;
}

/**
 * Header bytes shared by every stream: the member hands all streams the same header object per
 * revision (etcd-node watchHeader), so each revision's header is encoded once.
 */
const sharedHeader = new ResponseHeaderBytes();

/** The protobuf encoding of `r` (toBinary's bytes), with the cached pieces when it is plain. */
export function encodeWatchResponse(r: WatchResponse): Uint8Array {
  if (!isPlain(r)) return toBinary(WatchResponseSchema, r);
  const header = sharedHeader.encode(r.header!);
  const events = r.events.length > 0 ? encodedEvents(r.events) : undefined;
  const watchId = Number(r.watchId);
  const out = new Uint8Array(plainSize(header, watchId, events));
  writePlain(out, 0, header, watchId, events);
  return out;
}

/**
 * WatchResponses gathered for one write: {@link add} them, then {@link take} the concatenated
 * gRPC frames (flag byte 0, 4-byte big-endian length, message) built in one buffer.
 */
export class WatchFrameBatch {
  /** Per response: its header bytes, or its whole encoding when not plain (then `ids` holds -1). */
  private readonly heads: Uint8Array[] = [];
  private readonly ids: number[] = [];
  private readonly events: (Uint8Array | undefined)[] = [];
  /** Bytes of the frames added so far, prefixes included. */
  bytes = 0;

  /** Number of responses added since the last take. */
  get count(): number {
    return this.heads.length;
  }

  add(r: WatchResponse): void {
    if (!isPlain(r)) {
      const m = toBinary(WatchResponseSchema, r);
      this.heads.push(m);
      this.ids.push(-1);
      this.events.push(undefined);
      this.bytes += 5 + m.length;
      return;
    }
    const header = sharedHeader.encode(r.header!);
    const events = r.events.length > 0 ? encodedEvents(r.events) : undefined;
    const watchId = Number(r.watchId);
    this.heads.push(header);
    this.ids.push(watchId);
    this.events.push(events);
    this.bytes += 5 + plainSize(header, watchId, events);
  }

  /** The frames of the responses added, in order, in a fresh buffer; the batch is empty afterwards. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes);
    this.writeTo(out);
    return out;
  }

  /**
   * As {@link take}, in a buffer of `pool` (server/http/write-buffer-pool.ts): release it once the
   * write that sends it was handled.
   */
  takePooled(pool: WriteBufferPool): PooledBuffer {
    const out = pool.take(this.bytes);
    this.writeTo(out.bytes);
    return out;
  }

  /** Writes the frames into `out` (exactly {@link bytes} long) and empties the batch. */
  private writeTo(out: Buffer): void {
    let pos = 0;
    for (let i = 0; i < this.heads.length; i++) {
      const head = this.heads[i]!;
      const id = this.ids[i]!;
      const ev = this.events[i];
      const length = id < 0 ? head.length : plainSize(head, id, ev);
      out[pos] = 0;
      out.writeUInt32BE(length, pos + 1);
      pos += 5;
      if (id < 0) {
        out.set(head, pos);
        pos += head.length;
      } else {
        pos = writePlain(out, pos, head, id, ev);
      }
    }
    this.heads.length = 0;
    this.ids.length = 0;
    this.events.length = 0;
    this.bytes = 0;
  }
}
