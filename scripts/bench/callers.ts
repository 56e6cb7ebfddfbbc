/**
 * The generator's two ways of issuing unary gRPC calls to one server over `conns` HTTP/2 connections:
 * "raw" (default; pre-encoded frames on node:http2, see grpc-raw.ts) and "connect" (`@connectrpc/connect-node`
 * createGrpcTransport, a stock client, for cross-checking; it costs the generator several times more CPU per call).
 */
import type { DescMessage, DescMethodUnary, MessageShape } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { SecureClientSessionOptions } from "node:http2";
import { grpcFrame, methodPath, RawGrpcConnection } from "./grpc-raw.ts";

/** How a caller reaches its server beyond the URL: TLS options and metadata sent with every call (e.g. `{ token }`). */
export interface CallerAccess {
  tls?: SecureClientSessionOptions;
  metadata?: Record<string, string>;
}

/** Kinds of gRPC client the generator can use (`--client`). */
export const CLIENT_KINDS = ["raw", "connect"] as const;
/** One of {@link CLIENT_KINDS}. */
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** A ready-to-send request; calling it with a client number sends it over connection `client % conns`. */
export type PreparedCall = (client: number) => Promise<unknown>;

/** Issues unary calls to one server. */
export interface Caller {
  /** Prepares `request` for `method` once (the raw caller encodes it here); the result can be sent many times. */
  prepareUnary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, request: MessageShape<I>): PreparedCall;
  /** Closes the connections. */
  close(): void;
}

/** Raw caller: `conns` RawGrpcConnections, requests encoded at prepare time. */
function rawCaller(endpoint: string, conns: number, access: CallerAccess): Caller {
  const connections = Array.from({ length: conns }, () => new RawGrpcConnection(endpoint, access.tls, access.metadata));
  return {
    prepareUnary(method, request) {
      const path = methodPath(method as DescMethodUnary);
      const frame = grpcFrame(method.input, request);
      return (client) => connections[client % conns]!.unary(path, frame);
    },
    close: () => connections.forEach((c) => c.close()),
  };
}

/** Connect caller: `conns` connect-node gRPC transports, each with its own HTTP/2 session manager. */
function connectCaller(endpoint: string, conns: number, access: CallerAccess): Caller {
  const managers = Array.from({ length: conns }, () => new Http2SessionManager(endpoint, {}, access.tls));
  const transports: Transport[] = managers.map((sessionManager) => createGrpcTransport({ baseUrl: endpoint, sessionManager }));
  const header = access.metadata && Object.keys(access.metadata).length > 0 ? access.metadata : undefined;
  return {
    prepareUnary(method, request) {
      return (client) => transports[client % conns]!.unary(method, undefined, undefined, header, request);
    },
    close: () => managers.forEach((m) => m.abort()),
  };
}

/**
 * Creates a caller of the given kind for `endpoint` (e.g. "http://127.0.0.1:2379") with `conns` connections, using
 * `access`'s TLS options and metadata.
 */
export function createCaller(kind: ClientKind, endpoint: string, conns: number, access: CallerAccess = {}): Caller {
  return kind === "connect" ? connectCaller(endpoint, conns, access) : rawCaller(endpoint, conns, access);
}
