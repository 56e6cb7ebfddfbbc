import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Cluster, KV, Maintenance, PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { createLogger } from "../log.ts";
import { createFakeApi, type FakeApi } from "./fake-api.ts";
import { startClientListeners, type ClientListeners } from "./listener.ts";
import { etcdctl, freePort, listenerTestConfig } from "./test-util.ts";

const MiB = 1024 * 1024;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

let api: FakeApi;
let listeners: ClientListeners;
let base: string;
const logLines: string[] = [];

beforeAll(async () => {
  api = createFakeApi();
  listeners = await startClientListeners(listenerTestConfig("http://127.0.0.1:0"), api, createLogger({ level: "debug", write: (l) => logLines.push(l) }));
  base = listeners.urls[0]!;
});
afterAll(async () => {
  await listeners.close();
});

async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectError) return { code: e.code, message: e.rawMessage };
    throw e;
  }
  throw new Error("call succeeded");
}

/** Sends raw bytes as one HTTP/2 gRPC call; resolves with grpc-status / grpc-message. */
function rawGrpc(path: string, body: Uint8Array): Promise<{ status: number; grpcStatus: number; grpcMessage: string }> {
  const session = http2.connect(base);
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", () => {});
    req.on("error", reject);
    req.on("close", () => {
      session.close();
      resolve({
        status: Number(headers[":status"]),
        grpcStatus: Number(trailers["grpc-status"] ?? headers["grpc-status"]),
        grpcMessage: decodeURIComponent(String(trailers["grpc-message"] ?? headers["grpc-message"] ?? "")),
      });
    });
    req.end(body);
  });
}

function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

const transports: [string, () => Transport][] = [
  ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: base, writeMaxBytes: 8 * MiB })],
  ["Connect binary over HTTP/1.1", () => createConnectTransport({ baseUrl: base, httpVersion: "1.1", useBinaryFormat: true, writeMaxBytes: 8 * MiB })],
  ["Connect JSON over HTTP/1.1", () => createConnectTransport({ baseUrl: base, httpVersion: "1.1", writeMaxBytes: 8 * MiB })],
  ["Connect JSON over HTTP/2", () => createConnectTransport({ baseUrl: base, httpVersion: "2", writeMaxBytes: 8 * MiB })],
  ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1", writeMaxBytes: 8 * MiB })],
  ["gRPC-Web over HTTP/2", () => createGrpcWebTransport({ baseUrl: base, httpVersion: "2", writeMaxBytes: 8 * MiB })],
];

describe.each(transports)("%s", (label, transport) => {
  test("put, range, member list, status", async () => {
    const t = transport();
    const kv = createClient(KV, t);
    const k = enc(`key/${label}`);
    await kv.put({ key: k, value: enc("v1") });
    const r = await kv.range({ key: k });
    expect(r.kvs.map((x) => dec(x.value))).toEqual(["v1"]);
    expect(r.header!.memberId).toBe(api.memberId);
    const ml = await createClient(Cluster, t).memberList({});
    expect(ml.members.map((m) => m.name)).toEqual(["fake"]);
    expect((await createClient(Maintenance, t).status({})).version).toBe("3.4.23");
  });

  test("validation errors keep etcd's code and message", async () => {
    const kv = createClient(KV, transport());
    expect(await failure(kv.put({ key: new Uint8Array(), value: enc("x") }))).toEqual({
      code: Code.InvalidArgument,
      message: "etcdserver: key is not provided",
    });
  });

  test("1.6 MiB put: the member's RequestTooLarge; 2.5 MiB: grpc-go's receive limit", async () => {
    const kv = createClient(KV, transport());
    expect(await failure(kv.put({ key: enc("big"), value: new Uint8Array(1.6 * MiB) }))).toEqual({
      code: Code.InvalidArgument,
      message: "etcdserver: request is too large",
    });
    const req = create(PutRequestSchema, { key: enc("k"), value: new Uint8Array(2.5 * MiB).fill(97) });
    const size = toBinary(PutRequestSchema, req).length;
    expect(size).toBe(2621448); // the real etcd 3.4.23 answers "(2621448 vs. 2097152)" for this request
    const f = await failure(kv.put(req));
    expect(f.code).toBe(Code.ResourceExhausted);
    if (label.startsWith("Connect JSON")) {
      // JSON bodies are larger than the protobuf encoding; the limit applies to the body.
      expect(f.message).toMatch(/^grpc: received message larger than max \(\d+ vs\. 2097152\)$/);
    } else {
      expect(f.message).toBe(`grpc: received message larger than max (${size} vs. 2097152)`);
    }
  });
});

describe("plain HTTP", () => {
  test("GET /health and /version like etcd 3.4", async () => {
    const h = await fetch(`${base}/health`);
    expect([h.status, await h.text()]).toEqual([200, '{"health":"true"}']);
    const v = await fetch(`${base}/version`);
    expect([v.status, v.headers.get("content-type"), await v.text()]).toEqual([
      200,
      "application/json",
      '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
    ]);
    const nf = await fetch(`${base}/nope`);
    expect([nf.status, await nf.text()]).toEqual([404, "404 page not found\n"]);
    const post = await fetch(`${base}/health`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  test("/health is false without a leader", async () => {
    api.leader = 0n;
    try {
      const h = await fetch(`${base}/health`);
      // etcd 3.4: http.Error with the JSON body (newline, nosniff), no reason field.
      expect([h.status, await h.text(), h.headers.get("x-content-type-options")]).toEqual([503, '{"health":"false"}\n', "nosniff"]);
    } finally {
      api.leader = api.memberId;
    }
  });

  test("CORS preflight and response headers", async () => {
    const pre = await fetch(`${base}/etcdserverpb.KV/Range`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,connect-protocol-version" },
    });
    // etcd answers every OPTIONS 200; with the default `--cors '*'` the origin allowed is `*`.
    expect(pre.status).toBe(200);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = pre.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["content-type", "connect-protocol-version", "x-grpc-web", "grpc-timeout", "authorization"]) expect(allowed).toContain(h);
    const res = await fetch(`${base}/etcdserverpb.KV/Range`, {
      method: "POST",
      headers: { origin: "http://app.example", "content-type": "application/json" },
      body: JSON.stringify({ key: btoa("cors") }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")!.toLowerCase()).toContain("grpc-status");
  });
});

describe("bad input never stops the server", () => {
  test("garbage protobuf over gRPC: Internal, grpc-go's unmarshal prefix", async () => {
    const r = await rawGrpc("/etcdserverpb.KV/Range", frame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02])));
    expect(r.status).toBe(200);
    expect(r.grpcStatus).toBe(Code.Internal);
    expect(r.grpcMessage).toStartWith("grpc: error unmarshalling request: ");
  });

  test("truncated frame and empty body: Unknown 'unexpected EOF' / 'EOF' like grpc-go", async () => {
    expect(await rawGrpc("/etcdserverpb.KV/Range", new Uint8Array([0, 0, 0, 0, 9, 1]))).toMatchObject({ grpcStatus: Code.Unknown, grpcMessage: "unexpected EOF" });
    expect(await rawGrpc("/etcdserverpb.KV/Range", new Uint8Array())).toMatchObject({ grpcStatus: Code.Unknown, grpcMessage: "EOF" });
  });

  test("unknown method and service over gRPC: grpc-go's Unimplemented texts", async () => {
    expect(await rawGrpc("/etcdserverpb.KV/Nope", frame(new Uint8Array()))).toEqual({
      status: 200,
      grpcStatus: Code.Unimplemented,
      grpcMessage: "unknown method Nope for service etcdserverpb.KV",
    });
    expect(await rawGrpc("/etcdserverpb.Nope/Call", frame(new Uint8Array()))).toMatchObject({
      grpcStatus: Code.Unimplemented,
      grpcMessage: "unknown service etcdserverpb.Nope",
    });
    expect(await failure(createClient(Maintenance, createGrpcTransport({ baseUrl: base })).hash({}))).toEqual({
      code: Code.Unimplemented,
      message: "unknown method Hash for service etcdserverpb.Maintenance",
    });
  });

  test("Connect: malformed JSON is 400 invalid_argument, garbage proto 500 internal, unknown method 404", async () => {
    const post = (path: string, type: string, body: string | Uint8Array) =>
      fetch(base + path, { method: "POST", headers: { "content-type": type, "connect-protocol-version": "1" }, body });
    const badJson = await post("/etcdserverpb.KV/Range", "application/json", "{not json");
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: "invalid_argument" });
    const badProto = await post("/etcdserverpb.KV/Range", "application/proto", new Uint8Array([0xff, 0xff, 0xff, 0x0f]));
    expect(badProto.status).toBe(500);
    const body = (await badProto.json()) as { code: string; message: string };
    expect(body.code).toBe("internal");
    expect(body.message).toStartWith("grpc: error unmarshalling request: ");
    expect((await post("/etcdserverpb.KV/Nope", "application/json", "{}")).status).toBe(404);
  });

  test("an unexpected exception in the member is logged and answered Unknown", async () => {
    api.rangeThrows = new TypeError("boom in the member");
    try {
      const kv = createClient(KV, createGrpcTransport({ baseUrl: base }));
      expect(await failure(kv.range({ key: enc("x") }))).toEqual({ code: Code.Unknown, message: "boom in the member" });
    } finally {
      api.rangeThrows = undefined;
    }
    expect(logLines.some((l) => JSON.parse(l).msg === "unexpected error in RPC handler" && l.includes("boom in the member"))).toBe(true);
  });

  test("the HTTP/2 server acknowledges PING frames (Go clients' keepalive)", async () => {
    const session = http2.connect(base);
    const payload = await new Promise<string>((resolve, reject) =>
      session.ping(Buffer.from("12345678"), (err, _ms, p) => (err ? reject(err) : resolve(p.toString()))),
    );
    session.close();
    expect(payload).toBe("12345678");
  });

  test("':authority: http://host:port' (grpc-go dialing one endpoint URL) is accepted", async () => {
    const session = http2.connect(base);
    const call = () =>
      new Promise<{ grpcStatus: string | undefined; bytes: number }>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/etcdserverpb.Maintenance/Status",
          ":authority": base,
          "content-type": "application/grpc",
          te: "trailers",
        });
        let trailers: http2.IncomingHttpHeaders = {};
        let bytes = 0;
        req.on("trailers", (t) => (trailers = t));
        req.on("data", (d: Buffer) => (bytes += d.length));
        req.on("error", reject);
        req.on("close", () => resolve({ grpcStatus: trailers["grpc-status"] as string | undefined, bytes }));
        req.end(frame(new Uint8Array()));
      });
    try {
      // Three calls on one connection: the client's HPACK dynamic table is reused across them.
      for (let i = 0; i < 3; i++) expect(await call()).toMatchObject({ grpcStatus: "0" });
    } finally {
      session.close();
    }
    const st = await etcdctl(["--endpoints", base, "endpoint", "status"]);
    expect([st.code, st.stdout.split(", ")[0]]).toEqual([0, base]);
  });

  test("a preface split over several TCP writes still reaches the HTTP/2 server", async () => {
    const { port } = new URL(base);
    const sock = net.connect(Number(port), "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    sock.write("PRI * HT");
    await new Promise((r) => setTimeout(r, 50));
    sock.write("TP/2.0\r\n\r\nSM\r\n\r\n");
    // An HTTP/2 server answers the preface with a SETTINGS frame (type 4 at byte 3).
    const first = await new Promise<Buffer>((r) => sock.once("data", r));
    sock.destroy();
    expect(first[3]).toBe(4);
  });

  test("still serving after everything above", async () => {
    const kv = createClient(KV, createGrpcTransport({ baseUrl: base }));
    await kv.put({ key: enc("after"), value: enc("ok") });
    expect((await kv.range({ key: enc("after") })).kvs.map((x) => dec(x.value))).toEqual(["ok"]);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});

describe("Go etcdctl against the listener (h2c + keepalive as Go does them)", () => {
  test("get -w json, member list, endpoint status", async () => {
    api.data.set("foo", enc("bar"));
    const endpoint = base.replace("http://", "");
    const get = await etcdctl(["--endpoints", endpoint, "get", "foo", "-w", "json"]);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout).kvs.map((kv: { value: string }) => atob(kv.value))).toEqual(["bar"]);
    const ml = await etcdctl(["--endpoints", endpoint, "member", "list"]);
    expect([ml.code, ml.stdout.trim()]).toEqual([0, "8e9e05c52164694d, started, fake, http://127.0.0.1:2380, http://127.0.0.1:2379, false"]);
    const st = await etcdctl(["--endpoints", endpoint, "endpoint", "status"]);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(`${endpoint}, 8e9e05c52164694d, 3.4.23,`);
    const put = await etcdctl(["--endpoints", endpoint, "put", "big"], new Uint8Array(1.6 * MiB).fill(97));
    expect([put.code, put.stderr.trim().split("\n").at(-1)]).toEqual([1, "Error: etcdserver: request is too large"]);
  });
});

describe("binding", () => {
  test("localhost binds 127.0.0.1; a port in use fails with Go's message", async () => {
    const port = await freePort();
    const a = await startClientListeners(listenerTestConfig(`http://localhost:${port}`), api, createLogger({ write: () => {} }));
    try {
      expect(a.urls).toEqual([`http://127.0.0.1:${port}`]);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      await expect(startClientListeners(listenerTestConfig(`http://127.0.0.1:${port}`), api, createLogger({ write: () => {} }))).rejects.toThrow(
        `listen tcp 127.0.0.1:${port}: bind: address already in use`,
      );
    } finally {
      await a.close();
    }
    // closed: the port is free again
    const again = await startClientListeners(listenerTestConfig(`http://127.0.0.1:${port}`), api, createLogger({ write: () => {} }));
    await again.close();
  });
});
