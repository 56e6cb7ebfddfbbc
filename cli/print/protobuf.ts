/**
 * `-w protobuf`, mirroring etcdctl's `printer_protobuf.go`: the response's protobuf wire encoding,
 * written raw with no trailing newline. Endpoint listings are not supported (exit 4).
 */
import { toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { CtlError, ExitCode } from "../errors.ts";
import { headerOnlyProtobuf, headerProtoText } from "./lease.ts";
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

  // Lease responses are clientv3 structs whose only Marshal is the embedded header's (lease.ts).
  override leaseGrant(r: LeaseGrantResponse): void {
    this.out.print(headerOnlyProtobuf(r.header));
  }
  override leaseKeepAlive(r: LeaseKeepAliveResponse): void {
    this.out.print(headerOnlyProtobuf(r.header));
  }
  override leaseTimeToLive(r: LeaseTimeToLiveResponse): void {
    this.out.print(headerOnlyProtobuf(r.header));
  }
  override leaseList(r: LeaseLeasesResponse): void {
    this.out.print(headerOnlyProtobuf(r.header));
  }
  /** clientv3.LeaseRevokeResponse has no Marshal at all: etcdctl exits 4 after the revoke. */
  override leaseRevoke(_id: bigint, r: LeaseRevokeResponse): void {
    throw new CtlError(
      ExitCode.BadFeature,
      `marshal unsupported for type clientv3.LeaseRevokeResponse ({${headerProtoText(r.header)}})`,
    );
  }
}
