import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as http2 from "node:http2";
import { Lease, LeaseKeepAliveRequestSchema, LeaseKeepAliveResponseSchema, ResponseHeaderSchema, type LeaseKeepAliveRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { RequestQueue } from "../../cli/request-queue.ts";
import { listenerTestConfig } from "../http/test-util.ts";
import { Errors } from "../errors.ts";
import { createLogger } from "../log.ts";
import { createFakeApi, type FakeApi } from "../http/fake-api.ts";
import { startClientListeners, type ClientListeners } from "../http/listener.ts";
import { GrpcMessageReader, grpcFrames } from "./grpc-raw-call.ts";
import { decodeKeepAliveId, KeepAliveResponseEncoder } from "./lease-grpc.ts";

let api: FakeApi;
let listeners: ClientListeners;
let base: string;

beforeAll(async () => {
  api = createFakeApi();
  // Lease 5 lives with TTL 30; 13 is the member's trouble; the rest are unknown.
  api.leaseRenew = async (id) => {
    if (id === 5n) return 30n;
    if (id === 13n) throw Errors.Timeout();
    throw Errors.LeaseNotFound();
  };
  listeners = await startClientListeners(listenerTestConfig("http://127.0.0.1:0"), api, createLogger({ level: "error", write: () => {} }));
  base = listeners.urls[0]!;
});
afterAll(async () => {
  await listeners.close();
});

async function keepAlives(transport: ReturnType<typeof createGrpcTransport>, ids: bigint[]): Promise<Array<{ ID: bigint; TTL: bigint; revision: bigint }>> {
  const queue = new RequestQueue<LeaseKeepAliveRequest>();
  for (const ID of ids) queue.push(create(LeaseKeepAliveRequestSchema, { ID }));
  queue.close();
  const out: Array<{ ID: bigint; TTL: bigint; revision: bigint }> = [];
  for await (const r of createClient(Lease, transport).leaseKeepAlive(queue)) out.push({ ID: r.ID, TTL: r.TTL, revision: r.header!.revision });
  return out;
}

describe("raw gRPC LeaseKeepAlive", () => {
  test("answers every keep-alive in order, TTL 0 for unknown leases, and ends OK after the client half-closes", async () => {
    const ids = [5n, 7n, 5n, 0n, ...Array.from({ length: 200 }, (_, i) => (i % 2 ? 5n : 9n))];
    const got = await keepAlives(createGrpcTransport({ baseUrl: base }), ids);
    expect(got.map((r) => r.ID)).toEqual(ids);
    expect(got.map((r) => r.TTL)).toEqual(ids.map((id) => (id === 5n ? 30n : 0n)));
    expect(got.every((r) => r.revision === api.header().revision)).toBe(true);
  });

  test("gRPC-Web takes the Connect route with the same answers", async () => {
    const got = await keepAlives(createGrpcWebTransport({ baseUrl: base, httpVersion: "2" }) as never, [5n, 8n]);
    expect(got.map((r) => [r.ID, r.TTL])).toEqual([
      [5n, 30n],
      [8n, 0n],
    ]);
  });

  test("an error other than LeaseNotFound ends the stream with its status after the answers before it", async () => {
    const out: bigint[] = [];
    let err: unknown;
    try {
      const queue = new RequestQueue<LeaseKeepAliveRequest>();
      for (const ID of [5n, 13n, 5n]) queue.push(create(LeaseKeepAliveRequestSchema, { ID }));
      for await (const r of createClient(Lease, createGrpcTransport({ baseUrl: base })).leaseKeepAlive(queue)) out.push(r.ID);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConnectError);
    expect([(err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([Code.Unavailable, "etcdserver: request timed out"]);
    expect(out.length).toBeLessThanOrEqual(1);
  });

  test("hasleader: true without a leader is refused with `etcdserver: no leader`", async () => {
    api.leader = 0n;
    try {
      const status = await rawCall([], { hasleader: "true" });
      expect(status).toEqual({ grpcStatus: String(Code.Unavailable), grpcMessage: "etcdserver: no leader", answers: 0 });
    } finally {
      api.leader = api.memberId;
    }
  });

  test("a message over the receive limit ends the call with grpc-go's ResourceExhausted", async () => {
    const big = Buffer.alloc(5);
    big.writeUInt32BE(64 * 1024 * 1024, 1);
    const status = await rawCall([big]);
    expect(status.grpcStatus).toBe(String(Code.ResourceExhausted));
    expect(status.grpcMessage).toMatch(/^grpc: received message larger than max \(67108864 vs\. \d+\)$/);
  });

  test("a body cut inside a message ends with Unknown `unexpected EOF` after the answers owed", async () => {
    const one = grpcFrames([toBinary(LeaseKeepAliveRequestSchema, create(LeaseKeepAliveRequestSchema, { ID: 5n }))]);
    const status = await rawCall([one, one.subarray(0, 3)]);
    expect(status).toEqual({ grpcStatus: String(Code.Unknown), grpcMessage: "unexpected EOF", answers: 1 });
  });
});

/** Sends `chunks` as one LeaseKeepAlive call and half-closes; resolves with the status and the number of answers. */
function rawCall(chunks: Uint8Array[], extra: Record<string, string> = {}): Promise<{ grpcStatus: string; grpcMessage: string; answers: number }> {
  const session = http2.connect(base);
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": "/etcdserverpb.Lease/LeaseKeepAlive", "content-type": "application/grpc", te: "trailers", ...extra });
    let status: http2.IncomingHttpHeaders = {};
    const reader = new GrpcMessageReader(1 << 20);
    let answers = 0;
    req.on("response", (h) => (status = h["grpc-status"] ? h : status));
    req.on("trailers", (t) => (status = t));
    req.on("data", (d: Buffer) => (answers += reader.push(d).length));
    req.on("error", reject);
    req.on("close", () => {
      session.close();
      resolve({ grpcStatus: String(status["grpc-status"]), grpcMessage: decodeURIComponent(String(status["grpc-message"] ?? "")), answers });
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("keep-alive wire", () => {
  test("responses encode as toBinary does, and requests decode with unknown fields skipped", () => {
    const enc = new KeepAliveResponseEncoder();
    const header = create(ResponseHeaderSchema, { clusterId: 1n, memberId: 2n, revision: 3n, raftTerm: 4n });
    for (const [ID, TTL] of [
      [5n, 30n],
      [7n, 0n],
      [0n, 0n],
      [-1n, 9_000_000_000n],
      [0x694d7a3b5b2c1a05n, 60n],
      [0x7fffffffffffffffn, 1n],
      [1n << 32n, 127n],
      [(1n << 35n) - 1n, 128n],
      [300n, -5n],
    ] as const) {
      expect(enc.encode(header, ID, TTL)).toEqual(toBinary(LeaseKeepAliveResponseSchema, create(LeaseKeepAliveResponseSchema, { header, ID, TTL })));
    }
    for (const ID of [1n, 127n, 128n, 1n << 28n, (1n << 32n) - 1n, 1n << 32n, 0x694d7a3b5b2c1a05n, 0x7fffffffffffffffn, -1n, -(1n << 40n)]) {
      expect(decodeKeepAliveId(toBinary(LeaseKeepAliveRequestSchema, create(LeaseKeepAliveRequestSchema, { ID })))).toBe(ID);
    }
    const req = toBinary(LeaseKeepAliveRequestSchema, create(LeaseKeepAliveRequestSchema, { ID: 1234567890123n }));
    expect(decodeKeepAliveId(req)).toBe(1234567890123n);
    expect(decodeKeepAliveId(new Uint8Array([0x12, 0x01, 0x41, ...req]))).toBe(1234567890123n); // field 2 bytes first
    expect(() => decodeKeepAliveId(new Uint8Array([0x08]))).toThrow(/^.*grpc: error unmarshalling request: /);
  });

  test("the message reader splits frames across chunk boundaries", () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4]);
    const all = grpcFrames([a, b, new Uint8Array(0)]);
    const r = new GrpcMessageReader(10);
    const got: number[][] = [];
    for (let i = 0; i < all.length; i += 2) for (const m of r.push(all.subarray(i, i + 2))) got.push([...m]);
    expect(got).toEqual([[1, 2, 3], [4], []]);
    expect(() => r.end()).not.toThrow();
    expect(() => new GrpcMessageReader(2).push(grpcFrames([a]))).toThrow("grpc: received message larger than max (3 vs. 2)");
  });
});
