/**
 * The JSON gateway's server-streaming routes, as etcd 3.4's grpc-gateway v1 forwards them
 * (runtime.ForwardResponseStream): `POST /v3/election/observe` and `POST /v3/maintenance/snapshot`
 * (also under `/v3beta/`).
 *
 * The body is one JSON request, decoded like the unary routes' (a bad one: 400 with Go's JSON
 * error). Nothing is sent until the first response exists, because grpc-gateway waits for the
 * gRPC response headers, which grpc-go sends with the first message: a call that fails before
 * that answers like a unary one (grpc-gateway's error body and HTTP status). After that the
 * answer is 200, chunked, one line `{"result":<response JSON>}` per message; a later failure
 * writes one line `{"error":{"grpc_code":..,"http_code":..,"message":..,"http_status":..}}`
 * (grpc-gateway's StreamError) and ends the body. The call is canceled when the client goes away.
 */
import { create, type DescMessage, type DescMethod, type Message } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { Hono } from "hono";
import { Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Election } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { electionService } from "../api/election.ts";
import { maintenanceService } from "../api/maintenance.ts";
import { waitersOf } from "../concurrency/waiters.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { decodeRequest, errorResponse, gatewayContext, gatewayError, gatewayJson, methodNotAllowed, parseBody } from "./gateway.ts";

const STREAM_HEADERS = { "content-type": "application/json", "grpc-metadata-content-type": "application/grpc" };

/** A server-streaming handler of a Connect service implementation. */
export type StreamHandler = (req: Message, ctx: HandlerContext) => AsyncIterable<Message>;

/** One streaming route: the method (request and response messages) and the handler. */
export interface StreamRoute {
  method: DescMethod;
  input: DescMessage;
  output: DescMessage;
  open: StreamHandler;
}

/** The streaming route of `method` over `impl` (a Connect service implementation). */
function streamRoute(method: DescMethod, impl: Record<string, StreamHandler>): StreamRoute {
  return { method, input: method.input, output: method.output, open: impl[method.localName]! };
}

/** grpc-gateway's StreamError line for a failure after the first message. */
function streamErrorLine(e: unknown): string {
  const err = ConnectError.from(e);
  const { status } = gatewayError(err);
  const text = STATUS_TEXT[status] ?? "";
  return `{"error":${JSON.stringify({ grpc_code: err.code, http_code: status, message: err.rawMessage, http_status: text })}}\n`;
}

/** Go's http.StatusText for the statuses grpc-gateway maps gRPC codes to. */
const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  412: "Precondition Failed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Serves one streaming call; see the module doc. */
export async function serveStream(route: StreamRoute, request: Request): Promise<Response> {
  let req: Message;
  try {
    req = decodeRequest(route.input, parseBody(await request.text()));
  } catch (e) {
    return errorResponse(e);
  }
  const gone = new AbortController();
  const stop = () => gone.abort();
  request.signal.addEventListener("abort", stop, { once: true });
  // The handler's context: the request's headers (the `Authorization` token), the call's signal.
  const ctx = gatewayContext(route.method, new Request(request.url, { method: "POST", headers: request.headers, signal: gone.signal }));
  let it: AsyncIterator<Message>;
  let first: IteratorResult<Message>;
  try {
    it = route.open(req, ctx)[Symbol.asyncIterator]();
    first = await it.next();
  } catch (e) {
    request.signal.removeEventListener("abort", stop);
    return errorResponse(e);
  }
  const encoder = new TextEncoder();
  // Handlers may yield init shapes (plain objects): complete them into messages first.
  const line = (m: Message) => encoder.encode(`{"result":${gatewayJson(route.output, create(route.output, m as never))}}\n`);
  let pending: IteratorResult<Message> | undefined = first;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = pending ?? (await it.next());
        pending = undefined;
        if (r.done) return controller.close();
        controller.enqueue(line(r.value));
      } catch (e) {
        if (!gone.signal.aborted) controller.enqueue(encoder.encode(streamErrorLine(e)));
        controller.close();
      }
    },
    async cancel() {
      stop();
      await it.return?.();
    },
  });
  return new Response(body, { status: 200, headers: STREAM_HEADERS });
}

/** Mounts `/v3/election/observe` and `/v3/maintenance/snapshot` (and their `/v3beta/` twins) on `app`. */
export function mountStreamGateway(app: Hono, api: EtcdServerApi): void {
  const election = electionService(api, waitersOf(api)) as unknown as Record<string, StreamHandler>;
  const maintenance = maintenanceService(api) as unknown as Record<string, StreamHandler>;
  const routes: [string, StreamRoute][] = [
    ["election/observe", streamRoute(Election.method.observe, election)],
    ["maintenance/snapshot", streamRoute(Maintenance.method.snapshot, maintenance)],
  ];
  for (const prefix of ["/v3/", "/v3beta/"]) {
    for (const [path, route] of routes) {
      app.all(prefix + path, (c) => (c.req.method !== "POST" ? methodNotAllowed() : serveStream(route, c.req.raw)));
    }
  }
}
