/**
 * etcd 3.4's gateway form of Watch: `POST /v3/watch` (and `/v3beta/watch`), grpc-gateway v1's
 * bidi-stream bridge (etcdserverpb/gw/rpc.pb.gw.go request_Watch_Watch_0).
 *
 * The request body is a stream of JSON WatchRequests (one object, or several concatenated or
 * newline-separated; read as they arrive); the answer is a chunked stream of one line per
 * WatchResponse, `{"result":{...}}`, in the gateway's JSON (original field names, int64 as
 * strings, bytes base64, defaults left out; server/http/gateway.ts). The stream stays open after
 * the body ends, until the client goes away, like the gRPC stream after a half-close.
 *
 * Errors, as the real gateway answers them: a first request that is not valid JSON or not a
 * valid WatchRequest gets HTTP 500 `{"error":msg,"message":msg,"code":2}` and no stream; a bad
 * later request ends the reading of requests and leaves the stream as it is. Methods other than
 * POST get 405.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Hono } from "hono";
import { WatchRequestSchema, WatchResponseSchema, type WatchRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { handleCheckedWatchRequest, watchAuthorizer, type WatchAuthorizer } from "../api/watch.ts";
import type { WatchStream } from "../mvcc/watch/stream.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { decodeRequest, gatewayError, gatewayJson } from "./gateway.ts";
import { JsonValueReader } from "./json-values.ts";

const STREAM_HEADERS = { "content-type": "application/json", "grpc-metadata-content-type": "application/grpc" };

/** Reads WatchRequests from a request body as they arrive. */
class WatchRequestReader {
  private readonly values = new JsonValueReader();
  private readonly queue: unknown[] = [];
  private readonly decoder = new TextDecoder();
  private done = false;

  constructor(private readonly body: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } | undefined) {}

  /**
   * The next request, or undefined at the end of the body.
   * @throws ConnectError Unknown with the JSON or field error (grpc-gateway passes the decoder's error on)
   */
  async next(): Promise<WatchRequest | undefined> {
    while (this.queue.length === 0 && !this.done) {
      const chunk = this.body ? await this.body.read() : { done: true as const, value: undefined };
      try {
        if (chunk.done) {
          this.done = true;
          this.queue.push(...this.values.push(this.decoder.decode()));
          if (this.values.partial) throw new Error("unexpected EOF");
        } else {
          this.queue.push(...this.values.push(this.decoder.decode(chunk.value, { stream: true })));
        }
      } catch (e) {
        this.done = true;
        throw new ConnectError(e instanceof Error ? e.message : String(e), Code.Unknown);
      }
    }
    if (this.queue.length === 0) return undefined;
    try {
      return decodeRequest<WatchRequest>(WatchRequestSchema, this.queue.shift());
    } catch (e) {
      this.done = true;
      throw new ConnectError(ConnectError.from(e).rawMessage, Code.Unknown);
    }
  }

  /** Stops reading the body. */
  cancel(): void {
    this.done = true;
    void this.body?.cancel().catch(() => {});
  }
}

/** Feeds the rest of the body's requests into `stream`; a bad one stops the reading. */
async function pumpRest(reader: WatchRequestReader, stream: WatchStream, authorize?: WatchAuthorizer): Promise<void> {
  try {
    for (let req = await reader.next(); req; req = await reader.next()) await handleCheckedWatchRequest(stream, req, authorize);
  } catch {
    // grpc-gateway logs the decode failure and stops sending; the stream goes on.
  }
}

/** Serves one `POST /v3/watch`. */
async function serveWatch(api: EtcdServerApi, request: Request): Promise<Response> {
  const reader = new WatchRequestReader(request.body?.getReader());
  let first: WatchRequest | undefined;
  try {
    first = await reader.next();
  } catch (e) {
    const { status, body } = gatewayError(e);
    return new Response(body, { status, headers: { "content-type": "application/json" } });
  }
  const stream = api.openWatchStream();
  const stop = () => {
    stream.close();
    reader.cancel();
  };
  request.signal.addEventListener("abort", stop, { once: true });
  if (first) {
    // The gateway forwards `Authorization` as the token (etcd's grpc-gateway metadata).
    const authorize = watchAuthorizer(api, request.headers);
    void (async () => {
      await handleCheckedWatchRequest(stream, first, authorize);
      await pumpRest(reader, stream, authorize);
    })();
  }
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await stream.next();
      if (!r) return controller.close();
      controller.enqueue(encoder.encode(`{"result":${gatewayJson(WatchResponseSchema, r)}}\n`));
    },
    cancel: stop,
  });
  return new Response(body, { status: 200, headers: STREAM_HEADERS });
}

/** Mounts `POST /v3/watch` and `POST /v3beta/watch` on `app`. */
export function mountWatchGateway(app: Hono, api: EtcdServerApi): void {
  for (const path of ["/v3/watch", "/v3beta/watch"]) {
    app.all(path, (c) => {
      if (c.req.method !== "POST") {
        return new Response("Method Not Allowed\n", {
          status: 405,
          headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
        });
      }
      return serveWatch(api, c.req.raw);
    });
  }
}
