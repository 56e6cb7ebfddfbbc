/**
 * Many watchers on distinct keys: `watchers` watchers, watcher `i` on key `scaleKey(i)` alone, spread over `streams`
 * Watch streams (one HTTP/2 connection each); then every watched key is put once (in Txns of 128 puts) and the run
 * waits until each watcher got its event. Measures the creation time, the time from the first put to the last event,
 * and the server's RSS growth while the watchers exist (read by the caller through `rssBytes`).
 */
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Watch, WatchRequestSchema, type WatchRequest } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { RequestQueue } from "../../../cli/request-queue.ts";
import { scaleKey, type ScaleClient } from "./client.ts";
import { putKeys } from "./load.ts";

/** How long creating the watchers or delivering the events may take, in ms. */
const WATCH_TIMEOUT_MS = 120_000;

/** What the watch step measured. */
export interface WatchersResult {
  watchers: number;
  /** From the first create request sent to the last `created` answer, ms. */
  createMs: number;
  /** Server RSS after the watchers were created minus before, bytes. */
  rssGrowthBytes: number;
  /** From the first put sent to the last of the `watchers` events received, ms. */
  deliverMs: number;
  /** Events received (should equal `watchers`). */
  events: number;
}

/**
 * Runs the step against `client`'s server; `rssBytes` reads the server's RSS. Throws if the watchers are not all
 * created or the events do not all arrive within 120 s.
 */
export async function runWatchers(
  client: ScaleClient,
  watchers: number,
  streams: number,
  value: Uint8Array,
  rssBytes: () => number,
): Promise<WatchersResult> {
  const rss0 = rssBytes();
  const ac = new AbortController();
  const sessions: Http2SessionManager[] = [];
  let created = 0;
  let events = 0;
  let lastEvent = 0;
  const t0 = performance.now();
  const loops = Array.from({ length: streams }, (_, s) => {
    const queue = new RequestQueue<WatchRequest>();
    for (let i = s; i < watchers; i += streams) {
      queue.push(create(WatchRequestSchema, { requestUnion: { case: "createRequest", value: { key: scaleKey(i) } } }));
    }
    const sessionManager = new Http2SessionManager(client.endpoint);
    sessions.push(sessionManager);
    const watch = createClient(Watch, createGrpcTransport({ baseUrl: client.endpoint, sessionManager, readMaxBytes: 64 << 20 }));
    return (async () => {
      for await (const r of watch.watch(queue, { signal: ac.signal })) {
        if (r.created) created++;
        if (r.events.length > 0) {
          events += r.events.length;
          lastEvent = performance.now();
        }
      }
    })().catch((e) => {
      if (!ac.signal.aborted) throw e;
    });
  });
  const until = async (done: () => boolean, what: string) => {
    const deadline = performance.now() + WATCH_TIMEOUT_MS;
    while (!done()) {
      if (performance.now() > deadline) throw new Error(`watchers: ${what} within ${WATCH_TIMEOUT_MS} ms`);
      await Bun.sleep(2);
    }
  };
  try {
    await until(() => created >= watchers, `only ${created} of ${watchers} watchers created`);
    const createMs = performance.now() - t0;
    await Bun.sleep(500);
    const rssGrowthBytes = rssBytes() - rss0;
    const p0 = performance.now();
    await putKeys(client.endpoint, watchers, watchers, value);
    await until(() => events >= watchers, `only ${events} of ${watchers} events arrived`);
    return { watchers, createMs, rssGrowthBytes, deliverMs: lastEvent - p0, events };
  } finally {
    ac.abort();
    await Promise.all(loops);
    for (const s of sessions) s.abort();
  }
}
