/**
 * The handshake probe of h2-session.ts against a node:http2 server asking for client
 * certificates (TLS 1.3, so a refusal comes after the client's handshake, as from etcd): accepted,
 * refused (no certificate) and silent servers. The hang it prevents shows only under Deno: see
 * cli/tls.test.ts (the `(deno)` case without `--cert`).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import { HandshakeCheckedSessionManager, probeHttp2Session } from "./h2-session.ts";
import { makeTestCerts, type TestCerts } from "./testing/certs.ts";

let certs: TestCerts;
let server: http2.Http2SecureServer;
let url: string;
let silent: net.Server;
let silentUrl: string;

beforeAll(async () => {
  certs = makeTestCerts();
  server = http2.createSecureServer({
    cert: readFileSync(certs.server.cert),
    key: readFileSync(certs.server.key),
    ca: readFileSync(certs.ca),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
  });
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end("hi");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  silent = net.createServer(() => {}); // accepts and never answers
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  silentUrl = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  silent.close();
  certs.remove();
});

const withCert = () => ({ ca: readFileSync(certs.ca), cert: readFileSync(certs.client.cert), key: readFileSync(certs.client.key), ALPNProtocols: ["h2"] });
const withoutCert = () => ({ ca: readFileSync(certs.ca), ALPNProtocols: ["h2"] });

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectError) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

test("probe: resolves when the server accepts the client certificate", async () => {
  await probeHttp2Session(url, withCert(), 2_000);
});

test("probe: a refused client certificate rejects with Unavailable and the TLS error as cause", async () => {
  const e = await failure(probeHttp2Session(url, withoutCert(), 2_000));
  expect(e.code).toBe(Code.Unavailable);
  expect(String((e.cause as { code?: string }).code)).toMatch(/^ERR_SSL_|^ECONNRESET$|^EPIPE$/);
});

test("probe: a server that never answers rejects after the timeout", async () => {
  const t0 = performance.now();
  const e = await failure(probeHttp2Session(silentUrl, withCert(), 300));
  expect(e.rawMessage).toBe("no SETTINGS from the server within 300 ms");
  expect(performance.now() - t0).toBeGreaterThan(250);
});

test("session manager: requests go through after the probe; a refused probe fails the request", async () => {
  const ok = new HandshakeCheckedSessionManager(url, {}, withCert(), 2_000);
  const stream = await ok.request("GET", "/", {}, {});
  const body = await new Promise<string>((resolve) => {
    let text = "";
    stream.on("data", (d: Buffer) => (text += d.toString()));
    stream.on("end", () => resolve(text));
  });
  expect(body).toBe("hi");
  const refused = new HandshakeCheckedSessionManager(url, {}, withoutCert(), 2_000);
  expect((await failure(refused.request("GET", "/", {}, {}))).code).toBe(Code.Unavailable);
});
