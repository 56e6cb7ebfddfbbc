/**
 * How etcdctl 3.4 prints watch responses in the formats that dump whole responses. etcdctl hands
 * the printer clientv3's `WatchResponse` struct (clientv3/watch.go), not the protobuf message:
 * - `-w json`: Go's `encoding/json` of that struct: `{"Header":{...},"Events":[...]|null,
 *   "CompactRevision":N,"Canceled":b,"Created":b}` (no watch ID, fragment or cancel reason);
 *   events as gogo structs (`type` as a number, omitted for PUT).
 * - `-w protobuf`: etcdctl rebuilds a `pb.WatchResponse` from those five fields and writes its
 *   wire encoding (ctlv3/command/printer_protobuf.go).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { ResponseHeaderSchema, WatchResponseSchema, type WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { EventSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { goJsonMessage } from "../go/json.ts";

/** clientv3's WatchResponse struct as Go's encoding/json writes it. */
export function watchJson(r: WatchResponse): string {
  const header = goJsonMessage(ResponseHeaderSchema, r.header ?? create(ResponseHeaderSchema));
  const events = r.events.length === 0 ? "null" : `[${r.events.map((ev) => goJsonMessage(EventSchema, ev)).join(",")}]`;
  return `{"Header":${header},"Events":${events},"CompactRevision":${r.compactRevision},"Canceled":${r.canceled},"Created":${r.created}}`;
}

/** The bytes etcdctl's protobuf printer writes for a watch response. */
export function watchProtobuf(r: WatchResponse): Uint8Array {
  return toBinary(
    WatchResponseSchema,
    create(WatchResponseSchema, {
      header: r.header ?? create(ResponseHeaderSchema),
      events: r.events,
      compactRevision: r.compactRevision,
      canceled: r.canceled,
      created: r.created,
    }),
  );
}
