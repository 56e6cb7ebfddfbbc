import { expect, test } from "bun:test";
import { EtcdClient } from "../client.ts";
import { GrpcKvClient } from "./grpc-kv-client.ts";

test("a watch asked for after its signal aborted ends at once, without a call", async () => {
  let calls = 0;
  const client = new EtcdClient({ endpoints: ["127.0.0.1:1"], commandTimeoutMs: 1000, keepAliveTimeMs: 1000, keepAliveTimeoutMs: 1000 });
  client.call = (async () => {
    calls++;
    return new Promise(() => {});
  }) as typeof client.call;
  const ac = new AbortController();
  ac.abort();
  const seen = [];
  for await (const r of new GrpcKvClient(client).watch(new Uint8Array([1]), new Uint8Array(0), 0n, ac.signal)) seen.push(r);
  expect([seen.length, calls]).toEqual([0, 0]);
});
