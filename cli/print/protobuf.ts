/**
 * `-w protobuf`, mirroring etcdctl's `printer_protobuf.go`: the response's protobuf wire encoding,
 * written raw with no trailing newline. Endpoint listings are not supported (exit 4).
 */
import { toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { RpcPrinter } from "./printer.ts";
import { watchProtobuf } from "./watch.ts";
import type { WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/** The protobuf format. */
export class ProtobufPrinter extends RpcPrinter {
  readonly format = "protobuf";

  protected message(schema: DescMessage, msg: Message): void {
    this.out.print(toBinary(schema, msg));
  }

  /** etcdctl rebuilds a pb.WatchResponse from clientv3's struct (see watch.ts). */
  override watch(r: WatchResponse): void {
    this.out.print(watchProtobuf(r));
  }
}
