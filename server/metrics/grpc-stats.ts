/**
 * Per-method gRPC call counts as go-grpc-prometheus keeps them for etcd 3.4
 * (`grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`,
 * `grpc_server_msg_{received,sent}_total`, with `--metrics
 * extensive` also `grpc_server_handling_seconds`), plus etcd's codec byte counters
 * (`etcd_network_client_grpc_{sent,received}_bytes_total`, v3rpc/codec.go: marshalled message
 * bytes, without the 5-byte gRPC frame header).
 *
 * Every method of every registered service gets its record when the router is built, so a call
 * only bumps numbers in a record it looked up by path: no label objects per request. As
 * go-grpc-prometheus's Register does, every method is reported from the start with zeros, for
 * every code.
 */
import { Code } from "@connectrpc/connect";
import type { DescMethod, DescService } from "@bufbuild/protobuf";

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
  /** Handling times not yet reported to the latency histogram, seconds (only with `--metrics extensive`). */
  readonly pendingSeconds: number[] = [];

  constructor(
    readonly service: string,
    readonly method: string,
    readonly type: string,
    private readonly timed: boolean,
  ) {}

  /** A call finished with `code` (Connect's Code is the gRPC code number) after `ms` ms. */
  finish(code: Code | number, ms: number): void {
    this.handled[code]! += 1;
    if (this.timed && this.pendingSeconds.length < MAX_PENDING_TIMINGS) this.pendingSeconds.push(ms / 1000);
  }
}

/** Timings kept between two scrapes per method; beyond it they are dropped (bounded memory when nobody scrapes). */
const MAX_PENDING_TIMINGS = 100_000;

/** The gRPC counters of one client API (all listeners of a member share one). */
export class GrpcStats {
  /** By request path (`/etcdserverpb.KV/Put`). */
  readonly methods = new Map<string, GrpcMethodStats>();
  /** `etcd_network_client_grpc_sent_bytes_total`. */
  sentBytes = 0;
  /** `etcd_network_client_grpc_received_bytes_total`. */
  receivedBytes = 0;

  /** `extensive`: keep handling times for `grpc_server_handling_seconds` (`--metrics extensive`). */
  constructor(readonly extensive = false) {}

  /** Creates the records of every method of `service` (idempotent). */
  addService(service: DescService): void {
    for (const m of service.methods) {
      const path = `/${service.typeName}/${m.name}`;
      if (!this.methods.has(path)) this.methods.set(path, new GrpcMethodStats(service.typeName, m.name, grpcType(m.methodKind), this.extensive));
    }
  }

  /** The record of `path`, undefined for paths no service serves. */
  forPath(path: string): GrpcMethodStats | undefined {
    return this.methods.get(path);
  }
}
