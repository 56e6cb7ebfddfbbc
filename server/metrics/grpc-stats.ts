/**
 * Per-method gRPC call counts as go-grpc-prometheus keeps them for etcd 3.4
 * (`grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`,
 * `grpc_server_msg_{received,sent}_total`, with `--metrics
 * extensive` also `grpc_server_handling_seconds`), plus etcd's codec byte counters
 * (`etcd_network_client_grpc_{sent,received}_bytes_total`, v3rpc/codec.go: marshalled message
 * bytes, without the 5-byte gRPC frame header).
 *
 * Every method of every registered service gets its record when the router is built, so a call
 * only bumps numbers in a record it looked up by path: no label objects per request (with
 * `--metrics extensive`, the latency histogram is observed with the record's own labels). As
 * go-grpc-prometheus's Register does, every method is reported from the start with zeros, for
 * every code.
 */
import { Code } from "@connectrpc/connect";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Histogram } from "prom-client";

/** gRPC code names in code order, as grpc-go's `codes.Code.String()` spells them. */
export const GRPC_CODE_NAMES: readonly string[] = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
  "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
  "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
];

/** go-grpc-prometheus's `grpc_type` of a method kind. */
function grpcType(kind: DescMethod["methodKind"]): string {
  switch (kind) {
    case "unary":
      return "unary";
    case "server_streaming":
      return "server_stream";
    case "client_streaming":
      return "client_stream";
    case "bidi_streaming":
      return "bidi_stream";
  }
}

/** Counts of one method. */
export class GrpcMethodStats {
  /** Calls started. */
  started = 0;
  /** Request messages received (`grpc_server_msg_received_total`). */
  msgReceived = 0;
  /** Response messages sent (`grpc_server_msg_sent_total`). */
  msgSent = 0;
  /** Calls finished, by gRPC code (index = code number). */
  readonly handled = new Float64Array(17);
  /** This method's labels of `grpc_server_handling_seconds`, made once. */
  readonly labels: Record<"grpc_type" | "grpc_service" | "grpc_method", string>;

  constructor(
    readonly service: string,
    readonly method: string,
    readonly type: string,
    /** `grpc_server_handling_seconds` (`--metrics extensive`); undefined: calls are not timed. */
    private readonly handling: Histogram<"grpc_type" | "grpc_service" | "grpc_method"> | undefined,
  ) {
    this.labels = { grpc_type: type, grpc_service: service, grpc_method: method };
    handling?.zero(this.labels);
  }

  /** A call finished with `code` (Connect's Code is the gRPC code number) after `ms` ms. */
  finish(code: Code | number, ms: number): void {
    this.handled[code]! += 1;
    this.handling?.observe(this.labels, ms / 1000);
  }
}

/** Bucket upper bounds of `grpc_server_handling_seconds`, seconds (Prometheus' DefBuckets, as go-grpc-prometheus). */
export const GRPC_HANDLING_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gRPC counters of one client API (all listeners of a member share one). */
export class GrpcStats {
  /** By request path (`/etcdserverpb.KV/Put`). */
  readonly methods = new Map<string, GrpcMethodStats>();
  /** `etcd_network_client_grpc_sent_bytes_total`. */
  sentBytes = 0;
  /** `etcd_network_client_grpc_received_bytes_total`. */
  receivedBytes = 0;

  /**
   * `grpc_server_handling_seconds`, observed as calls finish (a histogram cannot be brought up to
   * date later without keeping every time); only with `--metrics extensive`, as in etcd.
   */
  readonly handlingSeconds: Histogram<"grpc_type" | "grpc_service" | "grpc_method"> | undefined;

  /** `extensive`: time calls for `grpc_server_handling_seconds` (`--metrics extensive`). */
  constructor(readonly extensive = false) {
    this.handlingSeconds = extensive
      ? new Histogram({
          name: "grpc_server_handling_seconds",
          help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
          labelNames: ["grpc_type", "grpc_service", "grpc_method"],
          buckets: [...GRPC_HANDLING_BUCKETS_SECONDS],
          registers: [],
        })
      : undefined;
  }

  /** Creates the records of every method of `service` (idempotent). */
  addService(service: DescService): void {
    for (const m of service.methods) {
      const path = `/${service.typeName}/${m.name}`;
      if (!this.methods.has(path)) this.methods.set(path, new GrpcMethodStats(service.typeName, m.name, grpcType(m.methodKind), this.handlingSeconds));
    }
  }

  /** The record of `path`, undefined for paths no service serves. */
  forPath(path: string): GrpcMethodStats | undefined {
    return this.methods.get(path);
  }
}
