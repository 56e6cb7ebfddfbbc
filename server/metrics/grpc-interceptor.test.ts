import { expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Lease, KV } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { countGrpcCalls } from "./grpc-interceptor.ts";
import { GrpcStats } from "./grpc-stats.ts";

// Requests and responses as Connect's router hands them to interceptors (only the fields read here).
const unaryReq = { stream: false, service: KV, method: KV.method.put, message: {} } as never;
async function* messages(n: number) {
  for (let i = 0; i < n; i++) yield {};
}
const streamReq = (n: number) => ({ stream: true, service: Lease, method: Lease.method.leaseKeepAlive, message: messages(n) }) as never;

test("unary calls through the router: started, one message each way, handled with their code", async () => {
  const stats = new GrpcStats();
  stats.addService(KV);
  const ok = countGrpcCalls(stats)(async () => ({ stream: false, message: {} }) as never);
  await ok(unaryReq);
  const failing = countGrpcCalls(stats)(async () => {
    throw new ConnectError("etcdserver: request timed out", Code.Unavailable);
  });
  await expect(failing(unaryReq)).rejects.toThrow();
  const put = stats.forPath("/etcdserverpb.KV/Put")!;
  expect([put.started, put.msgReceived, put.msgSent, put.handled[0], put.handled[Code.Unavailable]]).toEqual([2, 2, 1, 1, 1]);
});

test("streams: messages counted as they pass; handled once the response stream ends (OK) or fails", async () => {
  const stats = new GrpcStats();
  stats.addService(Lease);
  const echo = countGrpcCalls(stats)(async (req) => ({
    stream: true,
    message: (async function* () {
      for await (const m of (req as unknown as { message: AsyncIterable<unknown> }).message) yield m;
    })(),
  }) as never);
  const res = (await echo(streamReq(3))) as unknown as { message: AsyncIterable<unknown> };
  const ka = stats.forPath("/etcdserverpb.Lease/LeaseKeepAlive")!;
  expect(ka.handled[0]).toBe(0);
  for await (const _ of res.message);
  expect([ka.started, ka.msgReceived, ka.msgSent, ka.handled[0]]).toEqual([1, 3, 3, 1]);
  const broken = countGrpcCalls(stats)(async () => ({
    stream: true,
    message: (async function* () {
      yield {};
      throw new ConnectError("etcdserver: no leader", Code.Unavailable);
    })(),
  }) as never);
  const r2 = (await broken(streamReq(0))) as unknown as { message: AsyncIterable<unknown> };
  await expect((async () => {
    for await (const _ of r2.message);
  })()).rejects.toThrow();
  expect(ka.handled[Code.Unavailable]).toBe(1);
});
