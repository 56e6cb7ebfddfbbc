/**
 * Protobuf encoding of WatchResponses for the raw gRPC Watch writer (server/api/watch-grpc.ts),
 * built for fan-out: one committed event goes to every watcher of its key, each in its own
 * response, so each event is encoded once (cached per Event object) and each header once per
 * revision; a response is then the concatenation of cached pieces. The bytes are exactly what
 * `toBinary(WatchResponseSchema, r)` gives (fields in number order, defaults left out).
 */
import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type WatchResponse, WatchResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { type Event, EventSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { ResponseHeaderBytes } from "./header-wire.ts";

/** Encodes WatchResponses with cached event and header bytes; see the module doc. */
export class WatchResponseEncoder {
  private readonly events = new WeakMap<Event, Uint8Array>();
  private readonly header = new ResponseHeaderBytes();

  private event(ev: Event): Uint8Array {
    let b = this.events.get(ev);
    if (!b) {
      b = toBinary(EventSchema, ev);
      this.events.set(ev, b);
    }
    return b;
  }

  /** The protobuf encoding of `r`. */
  encode(r: WatchResponse): Uint8Array {
    const plain = r.header !== undefined && !r.created && !r.canceled && r.compactRevision === 0n && r.cancelReason === "" && !r.fragment;
    if (!plain) return toBinary(WatchResponseSchema, r);
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).bytes(this.header.encode(r.header!));
    if (r.watchId !== 0n) w.tag(2, WireType.Varint).int64(r.watchId);
    for (const ev of r.events) w.tag(11, WireType.LengthDelimited).bytes(this.event(ev));
    return w.finish();
  }
}
