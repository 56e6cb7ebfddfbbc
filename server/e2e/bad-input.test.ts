/**
 * Bad input gets etcd's gRPC code and exact message, and the server keeps serving afterwards.
 * Codes and texts were read off etcd 3.4.23 with its default `--max-request-bytes` (1.5 MiB;
 * gRPC's receive limit is that plus 512 KiB, i.e. 2 MiB; etcdserver/api/v3rpc/grpc.go).
 * Connect-protocol cases run only against our server (real etcd does not speak Connect).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import * as grpcJs from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { PutRequestSchema, RangeRequestSchema, type RequestOp } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { bytes, type EtcdGrpc, grpcClients, grpcFrame, rawGrpc, rpcError, text } from "./clients.ts";
import { cleanup, type EtcdProcess, IS_REAL_ETCD, startEtcd } from "./harness.ts";

// Each test starts/stops real processes: allow more than bun's 5 s default.
setDefaultTimeout(60_000);

let etcd: EtcdProcess;
let grpc: EtcdGrpc;

beforeAll(async () => {
  etcd = await startEtcd({ name: "bad" });
  grpc = grpcClients(etcd.endpoint);
});
afterAll(cleanup);

/** The error a call failed with, as {code, message} for one readable comparison. */
async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const e = await rpcError(p);
  return { code: e.code, message: e.rawMessage };
}

/** A put request op for a txn. */
function putOp(key: string): RequestOp {
  return { request: { case: "requestPut", value: { key: bytes(key), value: bytes("v") } } } as RequestOp;
}

const EMPTY_KEY = { code: Code.InvalidArgument, message: "etcdserver: key is not provided" };
const MiB = 1024 * 1024;

describe("gRPC", () => {
  test("empty key in put, range, delete and txn", async () => {
    expect(await failure(grpc.kv.put({ key: new Uint8Array(), value: bytes("x") }))).toEqual(EMPTY_KEY);
    expect(await failure(grpc.kv.range({ key: new Uint8Array() }))).toEqual(EMPTY_KEY);
    expect(await failure(grpc.kv.deleteRange({ key: new Uint8Array() }))).toEqual(EMPTY_KEY);
    expect(await failure(grpc.kv.txn({ success: [putOp("")] }))).toEqual(EMPTY_KEY);
  });

  test("a put just under --max-request-bytes (1.5 MiB) succeeds", async () => {
    const r = await grpc.kv.put({ key: bytes("/big/ok"), value: new Uint8Array(1.5 * MiB - 1024) });
    expect(r.header!.revision).toBeGreaterThan(0n);
  });

  test("a 1.6 MiB put is larger than --max-request-bytes", async () => {
    expect(await failure(grpc.kv.put({ key: bytes("/big/a"), value: new Uint8Array(1.6 * MiB) }))).toEqual({
      code: Code.InvalidArgument,
      message: "etcdserver: request is too large",
    });
  });

  test("a put over 2 MiB is refused by the gRPC receive limit", async () => {
    const req = { key: bytes("/big/b"), value: new Uint8Array(2 * MiB + 1024) };
    const size = toBinary(PutRequestSchema, create(PutRequestSchema, req)).length;
    expect(await failure(grpc.kv.put(req))).toEqual({
      code: Code.ResourceExhausted,
      message: `grpc: received message larger than max (${size} vs. ${2 * MiB})`,
    });
  });

  test("128 txn operations are fine, 129 are too many", async () => {
    const ops = (n: number) => Array.from({ length: n }, (_, i) => putOp(`/ops/${i}`));
    expect((await grpc.kv.txn({ success: ops(128) })).succeeded).toBe(true);
    expect(await failure(grpc.kv.txn({ success: ops(129) }))).toEqual({
      code: Code.InvalidArgument,
      message: "etcdserver: too many operations in txn request",
    });
    expect(await failure(grpc.kv.txn({ failure: ops(129) }))).toEqual({
      code: Code.InvalidArgument,
      message: "etcdserver: too many operations in txn request",
    });
  });

  test("a key written twice in one txn branch", async () => {
    const dup = { code: Code.InvalidArgument, message: "etcdserver: duplicate key given in txn request" };
    expect(await failure(grpc.kv.txn({ success: [putOp("/dup"), putOp("/dup")] }))).toEqual(dup);
    expect(await failure(grpc.kv.txn({ failure: [putOp("/dup"), putOp("/dup")] }))).toEqual(dup);
    const delSame = { request: { case: "requestDeleteRange", value: { key: bytes("/dup") } } } as RequestOp;
    expect(await failure(grpc.kv.txn({ success: [putOp("/dup"), delSame] }))).toEqual(dup);
    // the same key in different branches is fine
    expect((await grpc.kv.txn({ success: [putOp("/dup")], failure: [putOp("/dup")] })).succeeded).toBe(true);
  });

  test("garbage protobuf bytes", async () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
    const r = await rawGrpc(etcd.endpoint, "/etcdserverpb.KV/Range", grpcFrame(garbage));
    expect(r.httpStatus).toBe(200);
    expect(r.grpcStatus).toBe(Code.Internal);
    expect(r.grpcMessage).toStartWith("grpc: error unmarshalling request: ");
    // a length-delimited field that claims more bytes than the message has
    const short = await rawGrpc(etcd.endpoint, "/etcdserverpb.KV/Put", grpcFrame(new Uint8Array([0x0a, 0x50, 1, 2])));
    expect(short.grpcStatus).toBe(Code.Internal);
    expect(short.grpcMessage).toStartWith("grpc: error unmarshalling request: ");
  });

  test("unknown method and unknown service", async () => {
    const m = await rawGrpc(etcd.endpoint, "/etcdserverpb.KV/Nope", grpcFrame(new Uint8Array()));
    expect([m.httpStatus, m.grpcStatus, m.grpcMessage]).toEqual([
      200,
      Code.Unimplemented,
      "unknown method Nope for service etcdserverpb.KV",
    ]);
    const s = await rawGrpc(etcd.endpoint, "/foo.Bar/Baz", grpcFrame(new Uint8Array()));
    expect([s.httpStatus, s.grpcStatus, s.grpcMessage]).toEqual([200, Code.Unimplemented, "unknown service foo.Bar"]);
  });

  test("unknown service and method reach a strict gRPC client (grpc-js) as UNIMPLEMENTED, not a broken stream", async () => {
    const client = new grpcJs.Client(etcd.endpoint.replace(/^http:\/\//, ""), grpcJs.credentials.createInsecure());
    const call = (path: string) =>
      new Promise<[number | undefined, string | undefined]>((resolve) =>
        client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (err) => resolve([err?.code, err?.details])),
      );
    try {
      expect(await call("/foo.Bar/Baz")).toEqual([Code.Unimplemented, "unknown service foo.Bar"]);
      expect(await call("/etcdserverpb.KV/Nope")).toEqual([Code.Unimplemented, "unknown method Nope for service etcdserverpb.KV"]);
    } finally {
      client.close();
    }
  });

  test("a well-formed raw request still works (the raw client itself is sound)", async () => {
    await grpc.kv.put({ key: bytes("a"), value: bytes("1") });
    const body = toBinary(RangeRequestSchema, create(RangeRequestSchema, { key: bytes("a") }));
    const r = await rawGrpc(etcd.endpoint, "/etcdserverpb.KV/Range", grpcFrame(body));
    expect([r.httpStatus, r.grpcStatus]).toEqual([200, 0]) // grpc-status 0 = OK;
    expect(r.bodyBytes).toBeGreaterThan(5);
  });
});

/** POSTs a Connect unary request over HTTP/1.1; returns HTTP status and the parsed JSON body (or text). */
async function connectPost(path: string, contentType: string, body: string | Uint8Array): Promise<{ status: number; body: unknown }> {
  const res = await fetch(etcd.endpoint + path, {
    method: "POST",
    headers: { "content-type": contentType, "connect-protocol-version": "1" },
    body,
  });
  const raw = await res.text();
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

describe.skipIf(IS_REAL_ETCD)("Connect protocol (our server only; real etcd does not speak Connect)", () => {
  test("a well-formed Connect JSON put and range", async () => {
    const put = await connectPost("/etcdserverpb.KV/Put", "application/json", JSON.stringify({ key: btoa("cj"), value: btoa("v") }));
    expect(put.status).toBe(200);
    const get = await connectPost("/etcdserverpb.KV/Range", "application/json", JSON.stringify({ key: btoa("cj") }));
    expect(get).toMatchObject({ status: 200, body: { kvs: [{ key: btoa("cj"), value: btoa("v") }] } });
  });

  test("empty key over Connect JSON", async () => {
    const r = await connectPost("/etcdserverpb.KV/Put", "application/json", JSON.stringify({ key: "", value: btoa("x") }));
    expect(r).toEqual({ status: 400, body: { code: "invalid_argument", message: "etcdserver: key is not provided" } });
  });

  test("malformed Connect JSON", async () => {
    const r = await connectPost("/etcdserverpb.KV/Range", "application/json", "{not json");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: "invalid_argument" });
  });

  test("garbage protobuf over Connect", async () => {
    const r = await connectPost("/etcdserverpb.KV/Range", "application/proto", new Uint8Array([0xff, 0xff, 0xff, 0x0f]));
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ code: "internal" });
    expect((r.body as { message: string }).message).toStartWith("grpc: error unmarshalling request: ");
  });

  test("unknown Connect method is 404", async () => {
    const r = await connectPost("/etcdserverpb.KV/Nope", "application/json", "{}");
    expect(r.status).toBe(404);
  });
});

test("the server keeps serving after all of the above", async () => {
  expect(etcd.proc.exitCode).toBeNull();
  await grpc.kv.put({ key: bytes("/still/here"), value: bytes("yes") });
  const r = await grpc.kv.range({ key: bytes("/still/here") });
  expect(r.kvs.map((kv) => text(kv.value))).toEqual(["yes"]);
  const health = await fetch(`${etcd.endpoint}/health`);
  expect(await health.json()).toEqual({ health: "true" });
});
