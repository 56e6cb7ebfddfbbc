/**
 * Misbehaving connections do not stall other clients (the security issue's bad-input list):
 * while a server with an mTLS client port and a cleartext client port holds open
 * - a slowloris on the TLS port: many sockets that sent half a ClientHello and then wait,
 * - half a ClientHello on the cleartext port (TLS to a plaintext port, truncated),
 * - plaintext (an unfinished HTTP/1.1 request, half the HTTP/2 preface) on the TLS port,
 * - half the HTTP/2 client preface on the cleartext port,
 * and keeps refusing a stream of handshakes with a certificate from another CA, an expired
 * certificate and none at all, well-behaved clients (Go etcdctl 3.4 over mTLS and cleartext,
 * the `etcd3` npm client over mTLS) still get every answer promptly. Afterwards the held sockets
 * are released and the server still serves. Runs against real etcd too
 * (E2E_ETCD_BIN=/usr/bin/etcd).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { Etcd3 } from "etcd3";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { makeTestPki, type CertPair, type TestPki } from "./certs.ts";
import { cleanup, type EtcdProcess, freePort, goEtcdctl, makeTempDir, type RunResult, startEtcd } from "./harness.ts";

setDefaultTimeout(120_000);

/** Sockets in the slowloris on the TLS port. */
const SLOWLORIS_SOCKETS = 200;
/** The most a well-behaved call may take while the misbehaving connections are held, ms. */
const PROMPT_MS = 3_000;

let pki: TestPki;
let etcd: EtcdProcess;
let tlsPort: number;
let plainPort: number;
/** The first bytes a real TLS client sends (one ClientHello record). */
let clientHello: Buffer;

beforeAll(async () => {
  pki = makeTestPki(makeTempDir("pki"));
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [clientPort, peerPort, plain] = [...ports] as [number, number, number];
  tlsPort = clientPort;
  plainPort = plain;
  const urls = `https://127.0.0.1:${tlsPort},http://127.0.0.1:${plainPort}`;
  etcd = await startEtcd({
    name: "misbehaving",
    clientPort,
    peerPort,
    clientTls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key },
    extraArgs: [
      "--cert-file", pki.server.cert, "--key-file", pki.server.key, "--client-cert-auth", "--trusted-ca-file", pki.ca,
      "--listen-client-urls", urls, "--advertise-client-urls", urls,
    ],
  });
  clientHello = await captureClientHello();
});
afterAll(cleanup);

/** Records what `tls.connect` sends first, on a local server that never answers. */
async function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => {
      s.once("data", (d: Buffer) => {
        resolve(d);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      const c = tls.connect({ host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false });
      c.on("error", () => {});
      setTimeout(() => reject(new Error("no ClientHello seen")), 5_000).unref();
    });
  });
}

/** Opens a TCP connection to `port`, writes `bytes` and leaves it open; resolves once written. */
function holdOpen(port: number, bytes: Buffer | string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => s.write(bytes, () => resolve(s)));
    s.on("error", () => {}); // the server may close it: that is allowed
    s.once("error", reject);
  });
}

/** One mTLS handshake with `cert` (or none) to the TLS port; resolves when it failed or, unexpectedly, succeeded. */
function badHandshake(cert: CertPair | undefined, ca = pki.ca): Promise<"refused" | "accepted"> {
  return new Promise((resolve) => {
    const c = tls.connect({
      host: "127.0.0.1",
      port: tlsPort,
      servername: "localhost",
      ca: readFileSync(ca),
      ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
      ALPNProtocols: ["h2"],
    });
    // With TLS 1.3 a refused client certificate shows after the client's handshake finished:
    // the server's alert, or the close, arrives next.
    c.on("secureConnect", () => c.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    c.on("data", () => {
      resolve("accepted");
      c.destroy();
    });
    c.on("error", () => resolve("refused"));
    c.on("close", () => resolve("refused"));
    setTimeout(() => {
      resolve("refused");
      c.destroy();
    }, 5_000).unref();
  });
}

/** Runs `f` and returns its result with how long it took, ms. */
async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: Math.round(performance.now() - t0) };
}

const mtlsArgs = () => [`--cacert=${pki.ca}`, `--cert=${pki.client.cert}`, `--key=${pki.client.key}`, "--dial-timeout=5s", "--command-timeout=5s"];

test("slowloris, truncated handshakes, plaintext to TLS, TLS to plaintext and bad certificates stall no other client", async () => {
  const held: net.Socket[] = [];
  const half = clientHello.subarray(0, Math.floor(clientHello.length / 2));
  // The slowloris: one socket after the other, as an attacker's loop opens them.
  for (let i = 0; i < SLOWLORIS_SOCKETS; i++) held.push(await holdOpen(tlsPort, half));
  held.push(await holdOpen(plainPort, half));
  held.push(await holdOpen(tlsPort, "GET /health HTTP/1.1\r\nHost: localhost\r\n"));
  held.push(await holdOpen(tlsPort, "PRI * HTTP/2.0\r\n"));
  held.push(await holdOpen(plainPort, "PRI * HTTP/2.0\r\n"));
  held.push(await holdOpen(plainPort, "GET /health HTTP/1.1\r\nHost: localhost\r\n"));

  // Refused handshakes keep coming while the good clients work.
  let stop = false;
  const refusals: ("refused" | "accepted")[] = [];
  const badClients = (async () => {
    while (!stop) {
      refusals.push(...(await Promise.all([badHandshake(pki.untrustedClient), badHandshake(pki.expiredClient), badHandshake(undefined)])));
    }
  })();

  const etcd3 = new Etcd3({
    hosts: `https://localhost:${tlsPort}`,
    credentials: { rootCertificate: readFileSync(pki.ca), privateKey: readFileSync(pki.client.key), certChain: readFileSync(pki.client.cert) },
  });
  const slow: string[] = [];
  const expectPrompt = (label: string, ms: number) => {
    if (ms > PROMPT_MS) slow.push(`${label}: ${ms} ms`);
  };
  try {
    for (let i = 0; i < 5; i++) {
      const put = await timed(() => goEtcdctl(etcd.endpoint, [...mtlsArgs(), "put", `/abuse/${i}`, `v${i}`]));
      expect({ i, code: put.value.code, stdout: put.value.stdout, stderr: put.value.stderr }).toEqual({ i, code: 0, stdout: "OK\n", stderr: "" });
      expectPrompt(`Go etcdctl put over mTLS #${i}`, put.ms);
      const get: { value: RunResult; ms: number } = await timed(() =>
        goEtcdctl(`http://127.0.0.1:${plainPort}`, ["--dial-timeout=5s", "--command-timeout=5s", "get", `/abuse/${i}`, "--print-value-only"]),
      );
      expect({ i, stdout: get.value.stdout }).toEqual({ i, stdout: `v${i}\n` });
      expectPrompt(`Go etcdctl get over cleartext #${i}`, get.ms);
      const npm = await timed(async () => {
        await etcd3.put(`/abuse/npm/${i}`).value(`n${i}`);
        return etcd3.get(`/abuse/npm/${i}`).string();
      });
      expect(npm.value).toBe(`n${i}`);
      expectPrompt(`etcd3 put+get over mTLS #${i}`, npm.ms);
      // A fresh etcd3 client: a new TLS handshake while the others hang in theirs.
      const fresh = new Etcd3({
        hosts: `https://localhost:${tlsPort}`,
        credentials: { rootCertificate: readFileSync(pki.ca), privateKey: readFileSync(pki.client.key), certChain: readFileSync(pki.client.cert) },
      });
      try {
        const r = await timed(() => fresh.get(`/abuse/${i}`).string());
        expect(r.value).toBe(`v${i}`);
        expectPrompt(`fresh etcd3 client get #${i}`, r.ms);
      } finally {
        fresh.close();
      }
    }
  } finally {
    stop = true;
    await badClients;
    etcd3.close();
  }
  // The slowloris was really in place while the clients worked: the server had not dropped its
  // sockets (they are closed only after the 120 s handshake timeout).
  expect(held.filter((s) => s.readyState === "open").length).toBeGreaterThanOrEqual(SLOWLORIS_SOCKETS);
  expect(slow).toEqual([]);
  expect(refusals.length).toBeGreaterThanOrEqual(3);
  expect(refusals.filter((r) => r !== "refused")).toEqual([]);
  // The server is still there and the held sockets were not all dropped at once by a crash.
  expect(etcd.proc.exitCode).toBeNull();
  for (const s of held) s.destroy();
  const after = await goEtcdctl(etcd.endpoint, [...mtlsArgs(), "get", "/abuse/4", "--print-value-only"]);
  expect(after.stdout).toBe("v4\n");
});
