/**
 * Maintenance.Snapshot on the raw HTTP/2 path (./snapshot-grpc.ts) against a fake member: the
 * chunks arrive as the implementation yields them (Connect's gRPC client decodes every frame),
 * gRPC-Web takes the Connect route with the same answers, an error ends the stream with its
 * status, and a client that goes away aborts the member's snapshot.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { createFakeApi, type FakeApi } from "../http/fake-api.ts";
import { startClientListeners, type ClientListeners } from "../http/listener.ts";
import { listenerTestConfig } from "../http/test-util.ts";
import { createLogger } from "../log.ts";

let api: FakeApi;
let listeners: ClientListeners;
let base: string;

beforeAll(async () => {
  api = createFakeApi();
  listeners = await startClientListeners(listenerTestConfig("http://127.0.0.1:0"), api, createLogger({ level: "error", write: () => {} }));
  base = listeners.urls[0]!;
});
afterAll(async () => {
  await listeners.close();
});

/** 200 chunks of 32 KiB (more than one write's worth), remaining_bytes counting down, then a 32-byte "hash" with 0. */
const CHUNKS = Array.from({ length: 200 }, (_, i) => ({ remainingBytes: BigInt((199 - i) * 32768), blob: new Uint8Array(32768).fill(i & 0xff) }));
const HASH = { remainingBytes: 0n, blob: new Uint8Array(32).fill(7) };

async function save(transport: ReturnType<typeof createGrpcTransport>): Promise<{ remainingBytes: bigint; blob: Uint8Array }[]> {
  const out = [];
  for await (const r of createClient(Maintenance, transport).snapshot({})) out.push({ remainingBytes: r.remainingBytes, blob: r.blob });
  return out;
}

test("every chunk arrives in order with its remaining_bytes, the hash last, then OK", async () => {
  api.snapshot = async function* () {
    yield* CHUNKS;
    yield HASH;
  };
  const got = await save(createGrpcTransport({ baseUrl: base }));
  expect(got.length).toBe(201);
  expect(got.map((c) => c.remainingBytes)).toEqual([...CHUNKS, HASH].map((c) => c.remainingBytes));
  expect(got.every((c, i) => Buffer.compare(c.blob, [...CHUNKS, HASH][i]!.blob) === 0)).toBe(true);
});

test("gRPC-Web takes the Connect route with the same chunks", async () => {
  api.snapshot = async function* () {
    yield* CHUNKS.slice(0, 3);
    yield HASH;
  };
  const got = await save(createGrpcWebTransport({ baseUrl: base, httpVersion: "2" }) as never);
  expect(got.map((c) => [c.remainingBytes, c.blob.length])).toEqual([...CHUNKS.slice(0, 3), HASH].map((c) => [c.remainingBytes, c.blob.length]));
});

test("an error after some chunks ends the stream with its status; a learner refuses", async () => {
  api.snapshot = async function* () {
    yield CHUNKS[0]!;
    throw Errors.Timeout();
  };
  const err = await save(createGrpcTransport({ baseUrl: base })).catch((e) => ConnectError.from(e));
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).rawMessage).toBe(Errors.Timeout().rawMessage);
  api.rejectIfLearner = () => {
    throw Errors.NotSupportedForLearner();
  };
  try {
    const refused = await save(createGrpcTransport({ baseUrl: base })).catch((e) => ConnectError.from(e));
    expect((refused as ConnectError).rawMessage).toBe("etcdserver: rpc not supported for learner");
  } finally {
    delete (api as { rejectIfLearner?: unknown }).rejectIfLearner;
  }
});

test("a client that goes away aborts the member's snapshot", async () => {
  let signal: AbortSignal | undefined;
  let released!: () => void;
  const ended = new Promise<void>((resolve) => (released = resolve));
  api.snapshot = async function* (s?: AbortSignal) {
    signal = s;
    try {
      for (let i = 0; ; i++) {
        yield CHUNKS[i % CHUNKS.length]!;
        await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      released();
    }
  };
  const ctl = new AbortController();
  const it = createClient(Maintenance, createGrpcTransport({ baseUrl: base })).snapshot({}, { signal: ctl.signal })[Symbol.asyncIterator]();
  await it.next();
  ctl.abort();
  await ended;
  expect(signal?.aborted).toBe(true);
  expect(ConnectError.from(signal?.reason).code).toBe(Code.Canceled);
});
