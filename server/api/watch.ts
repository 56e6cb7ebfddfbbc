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
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Watch, type WatchRequest, type WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Watch as BrowserWatch } from "../../proto/gen/etcdts/watch_pb.ts";
import type { WatchStream } from "../mvcc/watch/stream.ts";
import type { EtcdServerApi } from "../node/types.ts";

/** Applies one WatchRequest to `stream` (recvLoop); requests with no known field are ignored. */
export function handleWatchRequest(stream: WatchStream, req: WatchRequest): void {
  const u = req.requestUnion;
  if (u.case === "createRequest") stream.create(u.value);
  else if (u.case === "cancelRequest") stream.cancel(u.value.watchId);
  else if (u.case === "progressRequest") stream.requestProgress();
}

/**
 * Feeds `requests` into `stream` in the background. End of input leaves the stream open; a
 * failing input (client reset) closes it.
 */
export function pumpWatchRequests(stream: WatchStream, requests: AsyncIterable<WatchRequest>): void {
  void (async () => {
    try {
      for await (const req of requests) handleWatchRequest(stream, req);
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
      pumpWatchRequests(stream, requests);
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
    watch(req, ctx) {
      const stream = api.openWatchStream();
      stream.create(req);
      return watchResponses(stream, ctx.signal, endsSingleWatch);
    },
  };
}
