/**
 * A request whose client goes away is dropped early: the member's write gets a Cancellation
 * (server/node/types.ts; an AbortSignal, or the lean gRPC path's own) that aborts when the client cancels (gRPC RST_STREAM, a closed HTTP/1.1 connection), on every
 * protocol of the client port, on the JSON gateway and on the v2 keys HTTP/1.1 fast path.
 */
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KV, type PutRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { parseConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import type { Cancellation } from "../node/types.ts";
import type { V2Server } from "../node/v2-server.ts";
import { V2HttpCounters } from "../metrics/v2-http-counters.ts";
import type { V2HttpDeps } from "./v2/mount.ts";
import { createFakeApi } from "./fake-api.ts";
import { startClientListeners, type ClientListeners } from "./listener.ts";

/** The cancellations the member got with each put, by key. */
const signals = new Map<string, Cancellation>();
let listeners: ClientListeners;
let base: string;

beforeAll(async () => {
  const api = createFakeApi();
  // A member that never answers a put: only the client's going away ends it.
  api.put = (req: PutRequest, _ai?: unknown, signal?: Cancellation) => {
    signals.set(new TextDecoder().decode(req.key), signal!);
    return new Promise((_, reject) => signal?.addEventListener("abort", () => reject(new Error("client gone"))));
  };
  // The v2 keys API, whose writes never answer either.
  const v2 = {
    do: (init: { Path?: string }, signal?: Cancellation) => {
      signals.set(`v2${init.Path}`, signal!);
      return new Promise((_, reject) => signal?.addEventListener("abort", () => reject(new Error("client gone"))));
    },
  } as unknown as V2Server;
  const v2Deps = { clusterId: 1n, v2, nowMs: () => Date.now(), httpCounters: new V2HttpCounters() } as Partial<V2HttpDeps>;
  Object.assign(api, { v2Http: () => v2Deps });
  const out = parseConfig(["--listen-client-urls", "http://127.0.0.1:0", "--advertise-client-urls", "http://127.0.0.1:0"], {});
  if (out.kind !== "run") throw new Error(JSON.stringify(out));
  listeners = await startClientListeners(out.config, api, createLogger({ write: () => {} }));
  base = listeners.urls[0]!;
});
afterAll(async () => {
  await listeners.close();
});

async function aborted(key: string): Promise<boolean> {
  for (let i = 0; i < 100 && !signals.get(key)?.aborted; i++) await Bun.sleep(10);
  return signals.get(key)?.aborted ?? false;
}

const transports: [string, () => Transport][] = [
  ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: base })],
  ["Connect over HTTP/1.1", () => createConnectTransport({ baseUrl: base, httpVersion: "1.1" })],
];

describe.each(transports)("%s", (label, transport) => {
  test("the member's signal aborts when the client cancels", async () => {
    const kv = createClient(KV, transport());
    const key = `gone-${label}`;
    const client = new AbortController();
    const call = kv.put({ key: new TextEncoder().encode(key), value: new Uint8Array() }, { signal: client.signal }).catch(() => "canceled");
    for (let i = 0; i < 100 && !signals.has(key); i++) await Bun.sleep(10);
    expect(signals.get(key)?.aborted).toBe(false);
    client.abort();
    expect(await call).toBe("canceled");
    expect(await aborted(key)).toBe(true);
  });
});

test("JSON gateway: the member's signal aborts when the HTTP client goes away", async () => {
  const client = new AbortController();
  const call = fetch(`${base}/v3/kv/put`, { method: "POST", body: JSON.stringify({ key: btoa("gone-gateway") }), signal: client.signal }).catch(() => "canceled");
  for (let i = 0; i < 100 && !signals.has("gone-gateway"); i++) await Bun.sleep(10);
  expect(signals.get("gone-gateway")?.aborted).toBe(false);
  client.abort();
  expect(await call).toBe("canceled");
  expect(await aborted("gone-gateway")).toBe(true);
});

test("v2 keys over HTTP/1.1: the member's signal aborts when the client goes away", async () => {
  const client = new AbortController();
  const call = fetch(`${base}/v2/keys/gone`, {
    method: "PUT",
    body: "value=1",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    signal: client.signal,
  }).catch(() => "canceled");
  for (let i = 0; i < 100 && !signals.has("v2/gone"); i++) await Bun.sleep(10);
  expect(signals.get("v2/gone")?.aborted).toBe(false);
  client.abort();
  expect(await call).toBe("canceled");
  expect(await aborted("v2/gone")).toBe(true);
});
