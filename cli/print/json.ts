/**
 * `-w json`, mirroring etcdctl's `printer_json.go`: each response as Go `encoding/json` of the
 * gogoproto struct on one line; endpoint health/status as JSON arrays of etcdctl's own structs.
 */
import type { DescMessage, Message } from "@bufbuild/protobuf";
import {
  HashKVResponseSchema,
  StatusResponseSchema,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseTimeToLiveResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { goJsonMessage, goJsonString } from "../go/json.ts";
import { leaseGrantJson, leaseKeepAliveJson, leaseLeasesJson, leaseTimeToLiveJson } from "./lease.ts";
import type { EpHashKV, EpHealth, EpStatus } from "./printer.ts";
import { RpcPrinter } from "./printer.ts";
import { watchJson } from "./watch.ts";
import type { WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/** The json format. */
export class JsonPrinter extends RpcPrinter {
  readonly format = "json";

  protected message(schema: DescMessage, msg: Message): void {
    this.out.println(goJsonMessage(schema, msg));
  }

  /** clientv3's LeaseGrantResponse struct (see lease.ts). */
  override leaseGrant(r: LeaseGrantResponse): void {
    this.out.println(leaseGrantJson(r));
  }

  /** clientv3's LeaseKeepAliveResponse struct. */
  override leaseKeepAlive(r: LeaseKeepAliveResponse): void {
    this.out.println(leaseKeepAliveJson(r));
  }

  /** clientv3's LeaseTimeToLiveResponse struct. */
  override leaseTimeToLive(r: LeaseTimeToLiveResponse): void {
    this.out.println(leaseTimeToLiveJson(r));
  }

  /** clientv3's LeaseLeasesResponse struct. */
  override leaseList(r: LeaseLeasesResponse): void {
    this.out.println(leaseLeasesJson(r));
  }

  /** clientv3's WatchResponse struct (see watch.ts). */
  override watch(r: WatchResponse): void {
    this.out.println(watchJson(r));
  }

  /** `[{"endpoint":...,"health":...,"took":...,"error":...}]`, error omitted when empty. */
  override endpointHealth(list: EpHealth[]): void {
    const items = list.map((h) => {
      const error = h.error === "" ? "" : `,"error":${goJsonString(h.error)}`;
      return `{"endpoint":${goJsonString(h.ep)},"health":${h.health},"took":${goJsonString(h.took)}${error}}`;
    });
    this.out.println(`[${items.join(",")}]`);
  }

  /** `[{"Endpoint":...,"Status":{...StatusResponse...}}]`. */
  override endpointHashKV(list: EpHashKV[]): void {
    const items = list.map(({ ep, resp }) => `{"Endpoint":${goJsonString(ep)},"HashKV":${goJsonMessage(HashKVResponseSchema, resp)}}`);
    this.out.println(`[${items.join(",")}]`);
  }

  override endpointStatus(list: EpStatus[]): void {
    const items = list.map(
      ({ ep, resp }) => `{"Endpoint":${goJsonString(ep)},"Status":${goJsonMessage(StatusResponseSchema, resp)}}`,
    );
    this.out.println(`[${items.join(",")}]`);
  }
}
