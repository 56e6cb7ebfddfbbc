import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { createHandlerContext } from "@connectrpc/connect";
import { Lease, LeaseKeepAliveRequestSchema, type LeaseKeepAliveRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { createFakeApi } from "../http/fake-api.ts";
import { MAX_LEASE_KEEPALIVE_STREAMS } from "../node/limits.ts";
import { leaseService } from "./lease.ts";

/** Requests of a client that sends one keep-alive and then stays silent until `end()`. */
function silentClient(): { requests: AsyncIterable<LeaseKeepAliveRequest>; end(): void } {
  let end!: () => void;
  const ended = new Promise<void>((r) => (end = r));
  async function* requests() {
    yield create(LeaseKeepAliveRequestSchema, { ID: 1n });
    await ended;
  }
  return { requests: requests(), end };
}

test("LeaseKeepAlive streams are capped: one more gets 'too many requests' until one ends", async () => {
  const api = createFakeApi();
  api.leaseRenew = async () => 60n;
  const service = leaseService(api);
  const ctx = createHandlerContext({ service: Lease, method: Lease.method.leaseKeepAlive, protocolName: "grpc", requestMethod: "POST", url: "/" });
  const open = Array.from({ length: MAX_LEASE_KEEPALIVE_STREAMS }, () => {
    const client = silentClient();
    return { client, stream: service.leaseKeepAlive!(client.requests, ctx)[Symbol.asyncIterator]() };
  });
  const first = await Promise.all(open.map((o) => o.stream.next()));
  expect(first.every((r) => !r.done && r.value.TTL === 60n)).toBe(true);

  const extra = service.leaseKeepAlive!(silentClient().requests, ctx)[Symbol.asyncIterator]();
  await expect(extra.next()).rejects.toThrow("etcdserver: too many requests");

  open[0]!.client.end();
  expect((await open[0]!.stream.next()).done).toBe(true);
  const again = silentClient();
  const next = service.leaseKeepAlive!(again.requests, ctx)[Symbol.asyncIterator]();
  expect((await next.next()).done).toBe(false);
  again.end();
  await next.next();
  for (const o of open.slice(1)) o.client.end();
  await Promise.all(open.slice(1).map((o) => o.stream.next()));
});
