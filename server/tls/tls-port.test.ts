import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as tls from "node:tls";
import { makeTestPki, type CertPair, type TestPki } from "../e2e/certs.ts";
import { AuthorityRepairStream } from "../http/authority-repair.ts";
import { clientCertCommonName, linkClientIdentity } from "./client-identity.ts";
import { bindTlsPort, type RejectedConnection } from "./tls-port.ts";
import { emptyTlsInfo, type TlsInfo } from "./tls-info.ts";

let dir: string;
let pki: TestPki;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "etcd-ts-tls-port-"));
  pki = makeTestPki(dir, { clientCn: "alice", peerCns: ["n1"] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TLS port whose HTTP/1.1 and HTTP/2 servers answer with clientCertCommonName(req). */
async function startEcho(info: Partial<TlsInfo>, checkSan = false, handshakeTimeoutMs?: number) {
  const rejected: RejectedConnection[] = [];
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) =>
    res.end(`${req.httpVersion} ${clientCertCommonName(req) ?? "-"}`);
  const h1 = http.createServer(handler);
  const h2 = http2.createServer({}, handler);
  const sockets = new Set<tls.TLSSocket>();
  const { server, url } = await bindTlsPort("https://127.0.0.1:0", {
    info: { ...emptyTlsInfo(), certFile: pki.server.cert, keyFile: pki.server.key, ...info },
    checkSan,
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
    onRejected: (f) => rejected.push(f),
    handshakeTimeoutMs,
  });
  const close = () => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const socket of sockets) socket.destroy();
    return closed;
  };
  return { url, rejected, close };
}

/** One request over HTTP/1.1 (`h1`) or HTTP/2 with the given client certificate; resolves with the body or the error text. */
async function get(url: string, version: "h1" | "h2", client?: CertPair): Promise<string> {
  const opts = { ca: readFileSync(pki.ca), cert: client && readFileSync(client.cert), key: client && readFileSync(client.key) };
  try {
    if (version === "h1") {
      const res = await fetch(url, { tls: { ca: opts.ca.toString(), cert: opts.cert?.toString(), key: opts.key?.toString() } } as RequestInit);
      return await res.text();
    }
    return await new Promise<string>((resolve, reject) => {
      const session = http2.connect(url, opts);
      session.on("error", reject);
      const req = session.request({ ":path": "/" });
      let body = "";
      let status: unknown;
      req.on("response", (h) => (status = h[":status"]));
      req.on("data", (c) => (body += c));
      req.on("close", () => {
        session.close();
        if (status === 200) resolve(body);
        else reject(new Error(`no response (rst code ${req.rstCode})`));
      });
      req.on("error", reject);
    });
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

describe("TLS port", () => {
  test("without client-cert-auth: no certificate asked, no CN", async () => {
    const s = await startEcho({});
    expect(await get(s.url, "h1")).toBe("1.1 -");
    expect(await get(s.url, "h2")).toBe("2.0 -");
    await s.close();
  });

  test("mTLS: the verified CN is found over HTTP/1.1 and HTTP/2; missing, untrusted, expired, revoked certificates are refused and reported", async () => {
    const s = await startEcho({ trustedCaFile: pki.ca, clientCertAuth: true, crlFile: pki.crl });
    expect(await get(s.url, "h1", pki.client)).toBe("1.1 alice");
    expect(await get(s.url, "h2", pki.client)).toBe("2.0 alice");
    for (const bad of [undefined, pki.untrustedClient, pki.expiredClient, pki.revokedClient]) {
      expect(await get(s.url, "h2", bad)).toStartWith("error:");
    }
    await Bun.sleep(50);
    const errors = s.rejected.map((r) => r.error);
    expect(errors).toEqual([
      "tls: client didn't provide a certificate",
      "tls: failed to verify client certificate: x509: certificate signed by unknown authority",
      expect.stringMatching(/^tls: failed to verify client certificate: x509: certificate has expired or is not yet valid: current time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ is after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      expect.stringMatching(/^transport: certificate serial [0-9a-f]+ revoked$/),
    ]);
    expect(s.rejected[0]!["remote-addr"]).toMatch(/^127\.0\.0\.1:\d+$/);
    // As etcd: the SANs are logged for a refusal after the handshake (the CRL), not for a failed handshake.
    expect(s.rejected.map((r) => r["ip-addresses"])).toEqual([undefined, undefined, undefined, ["127.0.0.1"]]);
    // The port still serves good clients.
    expect(await get(s.url, "h1", pki.client)).toBe("1.1 alice");
    await s.close();
  });

  test("an updated CRL file applies to the next connection without a restart, as etcd reads it per connection", async () => {
    const live = join(dir, "live.crl");
    copyFileSync(pki.emptyCrl, live);
    const s = await startEcho({ trustedCaFile: pki.ca, clientCertAuth: true, crlFile: live });
    // HTTP/2 here: each get is a new connection (fetch would reuse its kept-alive one).
    expect(await get(s.url, "h2", pki.revokedClient)).toBe("2.0 revoked");
    copyFileSync(pki.crl, live);
    expect(await get(s.url, "h2", pki.revokedClient)).toStartWith("error:");
    expect(await get(s.url, "h2", pki.client)).toBe("2.0 alice");
    await s.close();
  });

  test("a trusted CA file alone requires a client certificate, as etcd's ServerConfig", async () => {
    const s = await startEcho({ trustedCaFile: pki.ca });
    expect(await get(s.url, "h1")).toStartWith("error:");
    expect(await get(s.url, "h1", pki.client)).toBe("1.1 alice");
    await s.close();
  });

  test("allowed CN: other CNs are refused after the handshake with etcd's error", async () => {
    const s = await startEcho({ trustedCaFile: pki.ca, clientCertAuth: true, allowedCn: "n1" }, true);
    expect(await get(s.url, "h1", pki.peers.n1)).toBe("1.1 n1");
    expect(await get(s.url, "h1", pki.client)).toStartWith("error:");
    await Bun.sleep(50);
    expect(s.rejected.map((r) => [r.error, r["ip-addresses"], r["dns-names"]])).toEqual([
      ["client certificate authentication failed", ["127.0.0.1"], ["localhost"]],
    ]);
    await s.close();
  });

  test("allowed hostname: the client certificate must be valid for it", async () => {
    const ok = await startEcho({ trustedCaFile: pki.ca, clientCertAuth: true, allowedHostname: "localhost" });
    expect(await get(ok.url, "h2", pki.client)).toBe("2.0 alice");
    await ok.close();
    const other = await startEcho({ trustedCaFile: pki.ca, clientCertAuth: true, allowedHostname: "etcd.example.com" });
    expect(await get(other.url, "h2", pki.client)).toStartWith("error:");
    await Bun.sleep(50);
    expect(other.rejected.map((r) => r.error)).toEqual(["client certificate authentication failed"]);
    await other.close();
  });

  test("peer ports check that a client certificate's SANs name the remote address, unless told to skip", async () => {
    const checked = await startEcho({ trustedCaFile: pki.ca, clientCertAuth: true }, true);
    expect(await get(checked.url, "h2", pki.peers.n1)).toBe("2.0 n1");
    expect(await get(checked.url, "h2", pki.farPeer)).toStartWith("error:");
    await Bun.sleep(50);
    expect(checked.rejected.map((r) => r.error)).toEqual(["x509: certificate is valid for 10.0.0.1, not 127.0.0.1"]);
    await checked.close();
    const skipped = await startEcho({ trustedCaFile: pki.ca, clientCertAuth: true, skipClientSanVerify: true }, true);
    expect(await get(skipped.url, "h2", pki.farPeer)).toBe("2.0 far-peer");
    await skipped.close();
  });

  test("plain HTTP to a TLS port is refused and reported, the port keeps serving", async () => {
    const s = await startEcho({});
    const plain = s.url.replace("https://", "http://");
    expect(await fetch(plain).then((r) => r.text(), (e: Error) => `error: ${e.message}`)).toStartWith("error:");
    await Bun.sleep(50);
    expect(s.rejected.map((r) => r.error)).toEqual(["tls: first record does not look like a TLS handshake"]);
    expect(await get(s.url, "h2")).toBe("2.0 -");
    await s.close();
  });

  test("a handshake that stalls (half a ClientHello) is closed after the handshake timeout and reported; others are served meanwhile", async () => {
    const s = await startEcho({}, false, 400);
    const port = Number(new URL(s.url).port);
    const stalled = net.connect({ host: "127.0.0.1", port });
    stalled.on("error", () => {});
    const clientPort = await new Promise<number>((resolve) => stalled.on("connect", () => resolve(stalled.localPort!)));
    // A TLS record header announcing 512 bytes of handshake, then only the start of a ClientHello.
    stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    const closed = new Promise<number>((resolve) => stalled.on("close", () => resolve(performance.now())));
    const t0 = performance.now();
    expect(await get(s.url, "h2")).toBe("2.0 -");
    const closedAt = await Promise.race([closed, Bun.sleep(5_000).then(() => -1)]);
    expect(closedAt).toBeGreaterThan(t0 + 300);
    expect(s.rejected.map((r) => r.error)).toEqual([`read tcp 127.0.0.1:${port}->127.0.0.1:${clientPort}: i/o timeout`]);
    await s.close();
  });

  test("a missing certificate file fails with Go's error text", async () => {
    await expect(bindTlsPort("https://127.0.0.1:0", { info: { ...emptyTlsInfo(), certFile: join(dir, "nope.crt"), keyFile: pki.server.key }, checkSan: false, onSocket() {}, onRejected() {} })).rejects.toThrow(
      `open ${join(dir, "nope.crt")}: no such file or directory`,
    );
  });
});

