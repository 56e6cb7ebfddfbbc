/**
 * The verified client certificate's CN reaches RPC handlers (CLIENT_CERT_CN_KEY) through the
 * client listener's request handler (server/http/rpc-handler.ts) on every path: plain gRPC over
 * HTTP/2 (the lean unary path), Connect over HTTP/1.1 (the router), and not at all on TLS without
 * a client certificate.
 */
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Maintenance, StatusResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { makeTestPki, type TestPki } from "../e2e/certs.ts";
import { AuthorityRepairStream } from "../http/authority-repair.ts";
import { createRpcHandler } from "../http/rpc-handler.ts";
import { createLogger } from "../log.ts";
import { CLIENT_CERT_CN_KEY, linkClientIdentity } from "./client-identity.ts";
import { bindTlsPort } from "./tls-port.ts";
import { emptyTlsInfo, type TlsInfo } from "./tls-info.ts";

let dir: string;
let pki: TestPki;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "etcd-ts-identity-"));
  pki = makeTestPki(dir, { clientCn: "alice" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TLS port wired like the client listener, whose Maintenance.Status answers with its context's CN in `version` ("-" for none). */
async function startServer(info: Partial<TlsInfo>): Promise<{ url: string; close(): Promise<void> }> {
  const handler = createRpcHandler({
    routes: (router) => router.service(Maintenance, { status: (_req, ctx) => create(StatusResponseSchema, { version: ctx.values.get(CLIENT_CERT_CN_KEY) ?? "-" }) }),
    fallback: (_req, res) => res.end(),
    readMaxBytes: 1 << 20,
    log: createLogger({ write: () => {} }),
  });
  const h1 = http.createServer(handler);
  const h2 = http2.createServer({}, handler);
  const sockets = new Set<net.Socket>();
  const { server, url } = await bindTlsPort("https://127.0.0.1:0", {
    info: { ...emptyTlsInfo(), certFile: pki.server.cert, keyFile: pki.server.key, ...info },
    checkSan: false,
    onSocket: (socket) => {
      sockets.add(socket);
      if (socket.alpnProtocol === "h2") {
        const stream = new AuthorityRepairStream(socket);
        linkClientIdentity(stream, socket);
        h2.emit("connection", stream);
      } else {
        h1.emit("connection", socket);
      }
    },
    onRejected: () => {},
  });
  return {
    url,
    close: () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      return closed;
    },
  };
}

const nodeOptions = () => ({ ca: readFileSync(pki.ca), cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) });

test("when no client certificate is asked for, handlers see no CN", async () => {
  const s = await startServer({});
  try {
    const grpc = createClient(Maintenance, createGrpcTransport({ baseUrl: s.url, nodeOptions: nodeOptions() }));
    expect((await grpc.status({})).version).toBe("-");
  } finally {
    await s.close();
  }
});

test("a verified client certificate's CN reaches gRPC (HTTP/2) and Connect (HTTP/1.1) handlers", async () => {
  const s = await startServer({ trustedCaFile: pki.ca, clientCertAuth: true });
  try {
    const grpc = createClient(Maintenance, createGrpcTransport({ baseUrl: s.url, nodeOptions: nodeOptions() }));
    expect((await grpc.status({})).version).toBe("alice");
    const connect = createClient(Maintenance, createConnectTransport({ baseUrl: s.url, httpVersion: "1.1", nodeOptions: nodeOptions() }));
    expect((await connect.status({})).version).toBe("alice");
  } finally {
    await s.close();
  }
});
