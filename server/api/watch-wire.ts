/**
 * Protobuf encoding of WatchResponses for the raw gRPC Watch writer (server/api/watch-grpc.ts),
 * built for fan-out: one committed event goes to every watcher of its key, each in its own
 * response, usually in the very same events array (server/mvcc/watch/watcher-group.ts shares
 * it). So the events of an array are encoded once for all streams (cached per array, and per
 * Event object, in process-wide weak maps: committed events are never mutated), each header once
 * per revision, and a response is its header bytes, its watch ID and those cached bytes,
 * copied into one buffer. The bytes are exactly what `toBinary(WatchResponseSchema, r)` gives
 * (fields in number order, defaults left out).
 */
import { toBinary } from "@bufbuild/protobuf";
import { type WatchResponse, WatchResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { type Event, EventSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { ResponseHeaderBytes } from "./header-wire.ts";

/** Tag bytes of WatchResponse fields header (1, length-delimited), watch_id (2, varint), events (11, length-delimited). */
const TAG_HEADER = 0x0a;
const TAG_WATCH_ID = 0x10;
const TAG_EVENT = 0x5a;

/** Encoded Event, per Event object. */
const eventBytes = new WeakMap<Event, Uint8Array>();
/** Field 11 (tag, length, event) of every event of an array, concatenated, per array. */
const eventsFields = new WeakMap<readonly Event[], Uint8Array>();

/** Bytes of `n` (0 ≤ n < 2^53) as a protobuf varint. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes `n` (0 ≤ n < 2^53) as a varint at `pos`; returns the position after it. */
function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

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

/** Encodes WatchResponses with cached event and header bytes; see the module doc. */
export class WatchResponseEncoder {
  private readonly header = new ResponseHeaderBytes();

  /** The protobuf encoding of `r`. */
  encode(r: WatchResponse): Uint8Array {
    return this.encodeAt(r, 0);
  }

  /**
   * `r` as one gRPC frame: flag byte 0, 4-byte big-endian length, then the message (for writers
   * that send many frames in one write).
   */
  frame(r: WatchResponse): Uint8Array {
    const out = this.encodeAt(r, 5);
    out[0] = 0;
    new DataView(out.buffer, out.byteOffset, 5).setUint32(1, out.length - 5);
    return out;
  }

  /** The encoding of `r` after `offset` bytes left for the caller. */
  private encodeAt(r: WatchResponse, offset: number): Uint8Array {
    const id = r.watchId;
    const plain =
      r.header !== undefined && !r.created && !r.canceled && r.compactRevision === 0n && r.cancelReason === "" && !r.fragment && id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER);
    if (!plain) {
      const m = toBinary(WatchResponseSchema, r);
      if (offset === 0) return m;
      const out = new Uint8Array(offset + m.length);
      out.set(m, offset);
      return out;
    }
    const header = this.header.encode(r.header!);
    const events = r.events.length > 0 ? encodedEvents(r.events) : undefined;
    const watchId = Number(id);
    const size = 1 + varintSize(header.length) + header.length + (watchId !== 0 ? 1 + varintSize(watchId) : 0) + (events?.length ?? 0);
    const out = new Uint8Array(offset + size);
    let pos = offset;
    out[pos++] = TAG_HEADER;
    pos = writeVarint(out, pos, header.length);
    out.set(header, pos);
    pos += header.length;
    if (watchId !== 0) {
      out[pos++] = TAG_WATCH_ID;
      pos = writeVarint(out, pos, watchId);
    }
    if (events) out.set(events, pos);
    return out;
  }
}
