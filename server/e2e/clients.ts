/**
 * gRPC clients for end-to-end tests: a Connect gRPC transport (HTTP/2, `application/grpc`) over
 * our generated etcd v3 service definitions, so tests can ask any etcd server directly (no
 * client-side retries, unlike clientv3 or the etcd3 npm package) and read exact codes/messages.
 */
import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { connect } from "node:http2";
import { readFileSync } from "node:fs";
import { Cluster, KV, Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/** KV, Maintenance and Cluster clients bound to one endpoint. */
export interface EtcdGrpc {
  kv: Client<typeof KV>;
  maintenance: Client<typeof Maintenance>;
  cluster: Client<typeof Cluster>;
}

/** PEM file paths for a TLS endpoint: the CA to trust and, for mTLS, the client certificate and key. */
export interface GrpcTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** node:http2 TLS options reading `files` (undefined without files). */
export function grpcTlsOptions(files: GrpcTlsFiles | undefined): { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  if (!files) return undefined;
  const read = (f: string | undefined) => (f ? readFileSync(f) : undefined);
  return { ca: read(files.ca), cert: read(files.cert), key: read(files.key) };
}

/**
 * Creates gRPC clients for `endpoint` (e.g. `http://127.0.0.1:2379`; an `https://` one with
 * `tls`: trusts `tls.ca` and presents `tls.cert`/`tls.key`). Accepts messages up to 16 MiB.
 */
export function grpcClients(endpoint: string, tls?: GrpcTlsFiles): EtcdGrpc {
  const nodeOptions = grpcTlsOptions(tls);
  const transport = createGrpcTransport({ baseUrl: endpoint, readMaxBytes: 16 << 20, writeMaxBytes: 16 << 20, ...(nodeOptions ? { nodeOptions } : {}) });
  return {
    kv: createClient(KV, transport),
    maintenance: createClient(Maintenance, transport),
    cluster: createClient(Cluster, transport),
  };
}

/** UTF-8 encodes a string (keys and values are bytes on the wire). */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** UTF-8 decodes bytes from a response. */
export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/**
 * Awaits `p` and returns the ConnectError it rejects with (code and raw message as the server sent
 * them). Throws if `p` resolves or rejects with anything but a ConnectError.
 */
export async function rpcError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectError) return e;
    throw e;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The outcome of the call `f` makes: "ok", or `<code>: <raw message>` of the error it fails with. */
export async function callOutcome(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return "ok";
  } catch (e) {
    const err = ConnectError.from(e);
    return `${err.code}: ${err.rawMessage}`;
  }
}

/** Whether `p` settles (resolves or rejects) within `ms` milliseconds. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await Bun.sleep(ms);
  return done;
}

/** What a raw gRPC call answered: HTTP status, grpc-status/grpc-message (from headers or trailers), body size. */
export interface RawGrpcAnswer {
  httpStatus: number;
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  bodyBytes: number;
}

/**
 * Frames `message` as one gRPC length-prefixed message (flag byte, 4-byte big-endian length).
 * `compressed` sets the compression flag byte.
 */
export function grpcFrame(message: Uint8Array, compressed = false): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/**
 * Sends `body` as-is to `path` over HTTP/2 cleartext with gRPC headers (for bytes no client
 * library would send: garbage protobuf, truncated frames, unknown methods). Resolves with the
 * status the server answered; `grpc-message` is percent-decoded.
 */
export async function rawGrpc(endpoint: string, path: string, body: Uint8Array): Promise<RawGrpcAnswer> {
  const session = connect(endpoint);
  try {
    return await new Promise<RawGrpcAnswer>((resolve, reject) => {
      const req = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let headers: Record<string, unknown> = {};
      let trailers: Record<string, unknown> = {};
      let bodyBytes = 0;
      req.on("response", (h) => (headers = h));
      req.on("trailers", (t) => (trailers = t));
      req.on("data", (d: Buffer) => (bodyBytes += d.length));
      req.on("error", reject);
      req.on("close", () => {
        const status = trailers["grpc-status"] ?? headers["grpc-status"];
        const message = trailers["grpc-message"] ?? headers["grpc-message"];
        resolve({
          httpStatus: Number(headers[":status"]),
          grpcStatus: status === undefined ? undefined : Number(status),
          grpcMessage: message === undefined ? undefined : decodeURIComponent(String(message)),
          bodyBytes,
        });
      });
      req.end(body);
    });
  } finally {
    session.close();
  }
}
