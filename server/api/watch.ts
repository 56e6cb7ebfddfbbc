/**
 * The Watch services over the member's watch hub:
 * - `etcdserverpb.Watch/Watch`, etcd's bidi stream (etcdserver/api/v3rpc/watch.go): any number
 *   of create, cancel and progress requests on one stream, responses in order on the same
 *   stream. When the client half-closes, responses keep flowing (etcd's recvLoop ends on EOF
 *   but the stream lives until the client goes away); a broken request side ends the stream.
 * - `etcdts.v1.Watch/Watch`, a server-streaming form for browsers (connect-web / gRPC-Web over
 *   HTTP/1.1): one WatchCreateRequest, then the same responses; the call ends when the watcher
 *   is canceled (refused create, compacted start revision) or the client leaves.
 */
import { ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { Watch, type WatchCreateRequest, type WatchRequest, type WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { Watch as BrowserWatch } from "../../proto/gen/etcdts/watch_pb.ts";
import type { WatchStream } from "../mvcc/watch/stream.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { requestToken } from "./auth-context.ts";
import { CLIENT_CERT_CN_KEY } from "../tls/client-identity.ts";

/**
 * Checks a create request against the stream's credentials; resolves with the cancel reason
 * of a refusal, or undefined when the watch may be created.
 */
export type WatchAuthorizer = (req: WatchCreateRequest) => Promise<string | undefined>;

const CANCEL_REASONS = [Errors.InvalidAuthToken(), Errors.AuthOldRevision(), Errors.UserEmpty(), Errors.PermissionDenied()];

/** grpc-go's Code names (codes.Code.String()) for the cancel reasons above. */
const GO_CODE_NAMES: Record<number, string> = { 3: "InvalidArgument", 7: "PermissionDenied", 16: "Unauthenticated" };

/**
 * etcd's isWatchPermitted (v3rpc/watch.go): READ on the watched key or range, with the
 * credentials of the stream (`token` or `authorization` in `headers`, else the client
 * certificate's common name `commonName`), read anew for each create request. As etcd, a
 * range end of "\0" (from the key on) is checked as the single key. The cancel reason is what
 * etcd 3.4 puts there, the Go text of its gRPC status error (`rpctypes.ErrGRPC*.Error()`):
 * `rpc error: code = PermissionDenied desc = etcdserver: permission denied`, or the same for
 * Unauthenticated `etcdserver: invalid auth token`, InvalidArgument `etcdserver: revision of
 * auth store is old` or `etcdserver: user name is empty`. Undefined when the member has no auth.
 */
export function watchAuthorizer(api: EtcdServerApi, headers: Headers, commonName?: string): WatchAuthorizer | undefined {
  const auth = api.auth;
  if (!auth) return undefined;
  const token = requestToken(headers);
  return async (req) => {
    try {
      const ai = await auth.authInfo(token, commonName);
      const fromKey = req.rangeEnd.length === 1 && req.rangeEnd[0] === 0;
      auth.store.isRangePermitted(ai, req.key, fromKey ? new Uint8Array(0) : req.rangeEnd);
      return undefined;
    } catch (e) {
      const err = ConnectError.from(e);
      const reason = CANCEL_REASONS.find((r) => r.rawMessage === err.rawMessage) ?? CANCEL_REASONS.at(-1)!;
      return `rpc error: code = ${GO_CODE_NAMES[reason.code]} desc = ${reason.rawMessage}`;
    }
  };
}

/** Applies one WatchRequest to `stream` (recvLoop); requests with no known field are ignored. */
export function handleWatchRequest(stream: WatchStream, req: WatchRequest): void {
  const u = req.requestUnion;
  if (u.case === "createRequest") stream.create(u.value);
  else if (u.case === "cancelRequest") stream.cancel(u.value.watchId);
  else if (u.case === "progressRequest") stream.requestProgress();
}

/**
 * {@link handleWatchRequest} with a permission check of create requests by `authorize` (none:
 * no check). Await it before the next request so that responses keep the requests' order.
 */
export async function handleCheckedWatchRequest(stream: WatchStream, req: WatchRequest, authorize?: WatchAuthorizer): Promise<void> {
  const u = req.requestUnion;
  if (authorize && u.case === "createRequest") {
    const reason = await authorize(u.value);
    if (reason !== undefined) return stream.refuse(reason);
  }
  handleWatchRequest(stream, req);
}

/**
 * Feeds `requests` into `stream` in the background, create requests checked by `authorize`.
 * End of input leaves the stream open; a failing input (client reset) closes it.
 */
export function pumpWatchRequests(stream: WatchStream, requests: AsyncIterable<WatchRequest>, authorize?: WatchAuthorizer): void {
  void (async () => {
    try {
      for await (const req of requests) await handleCheckedWatchRequest(stream, req, authorize);
    } catch {
      stream.close();
    }
  })();
}

/**
 * Yields the responses of `stream` until it closes or `signal` aborts, then closes it.
 * With `until`, stops after yielding the first response for which it returns true.
 */
export async function* watchResponses(
  stream: WatchStream,
  signal: AbortSignal,
  until?: (r: WatchResponse) => boolean,
): AsyncGenerator<WatchResponse> {
  try {
    for (;;) {
      const r = await stream.next(signal);
      if (!r) return;
      yield r;
      if (until?.(r)) return;
    }
  } finally {
    stream.close();
  }
}

/** The etcdserverpb.Watch implementation over `api`. */
export function watchService(api: EtcdServerApi): ServiceImpl<typeof Watch> {
  return {
    watch(requests: AsyncIterable<WatchRequest>, ctx: HandlerContext) {
      const stream = api.openWatchStream();
      pumpWatchRequests(stream, requests, watchAuthorizer(api, ctx.requestHeader, ctx.values.get(CLIENT_CERT_CN_KEY)));
      return watchResponses(stream, ctx.signal);
    },
  };
}

/** Whether `r` ends a single-watcher stream: its watcher was refused or canceled. */
export function endsSingleWatch(r: WatchResponse): boolean {
  return r.canceled;
}

/** The etcdts.v1.Watch (browser, server-streaming) implementation over `api`. */
export function browserWatchService(api: EtcdServerApi): ServiceImpl<typeof BrowserWatch> {
  return {
    async *watch(req, ctx) {
      const stream = api.openWatchStream();
      const authorize = watchAuthorizer(api, ctx.requestHeader, ctx.values.get(CLIENT_CERT_CN_KEY));
      const reason = authorize ? await authorize(req) : undefined;
      if (reason !== undefined) stream.refuse(reason);
      else stream.create(req);
      yield* watchResponses(stream, ctx.signal, endsSingleWatch);
    },
  };
}
