/**
 * `--cors` and `--host-whitelist` with curl on the client port, as etcd 3.4's accessController
 * (embed/serve.go): CORS headers on every HTTP answer (gateway, `/health`, `/version`, a 404),
 * with or without `Origin`; every `OPTIONS` answered 200 with no body; with an origin list only
 * listed origins get the headers; a `Host` not whitelisted gets 421 and etcd's CVE-2018-5702
 * text on cleartext but passes over TLS; gRPC is not affected. Expected answers were read off
 * etcd 3.4.23 (the test passes with E2E_ETCD_BIN=/usr/bin/etcd).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { makeTestPki, type TestPki } from "./certs.ts";
import { cleanup, type EtcdProcess, goEtcdctl, makeTempDir, run, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);

let open: EtcdProcess;
let strict: EtcdProcess;
let secure: EtcdProcess;
let pki: TestPki;

beforeAll(async () => {
  pki = makeTestPki(makeTempDir("pki"));
  [open, strict, secure] = await Promise.all([
    startEtcd({ name: "cors-open" }),
    startEtcd({ name: "cors-strict", extraArgs: ["--cors", "http://a.example:80,https://b.example:8443", "--host-whitelist", "localhost,127.0.0.1"] }),
    startEtcd({
      name: "cors-tls",
      clientTls: { ca: pki.ca },
      extraArgs: ["--cert-file", pki.server.cert, "--key-file", pki.server.key, "--host-whitelist", "localhost"],
    }),
  ]);
});
afterAll(cleanup);

interface Answer {
  status: number;
  /** Lower-cased header names; Date and the hop-by-hop Connection/Keep-Alive left out. */
  headers: Record<string, string>;
  body: string;
}

/** One HTTP/1.1 request with curl (`-H` lines as given), answer parsed. */
async function curl(url: string, args: string[] = [], tls = false): Promise<Answer> {
  const r = await run(["curl", "-s", "-i", "--http1.1", ...(tls ? ["--cacert", pki.ca] : []), ...args, url]);
  expect(r.code).toBe(0);
  const split = r.stdout.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = r.stdout.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    const name = l.slice(0, i).toLowerCase();
    if (!["date", "connection", "keep-alive"].includes(name)) headers[name] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body: r.stdout.slice(split + 4) };
}

const ETCD_CORS = (origin: string) => ({
  "access-control-allow-headers": "accept, content-type, authorization",
  "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
  "access-control-allow-origin": origin,
});

/** The CORS headers of an answer. */
const corsOf = (a: Answer) => Object.fromEntries(Object.entries(a.headers).filter(([k]) => k.startsWith("access-control-allow-")));

describe("--cors '*' (default)", () => {
  test("every answer carries etcd's CORS headers with origin *, with or without Origin", async () => {
    for (const [path, args] of [
      ["/health", []],
      ["/health", ["-H", "Origin: http://x.example"]],
      ["/version", []],
      ["/v3/kv/range", ["-X", "POST", "-d", '{"key":"YQ=="}']],
      ["/nope", []],
    ] as const) {
      const a = await curl(`${open.endpoint}${path}`, [...args]);
      expect({ path, cors: corsOf(a) }).toEqual({ path, cors: ETCD_CORS("*") });
    }
    expect((await curl(`${open.endpoint}/nope`)).status).toBe(404);
  });

  test("OPTIONS, preflight or not, is answered 200 with an empty body", async () => {
    for (const args of [[], ["-H", "Origin: http://x.example", "-H", "Access-Control-Request-Method: POST"]]) {
      const a = await curl(`${open.endpoint}/v3/kv/put`, ["-X", "OPTIONS", ...args]);
      expect([a.status, a.body, a.headers["content-length"], corsOf(a)]).toEqual([200, "", "0", ETCD_CORS("*")]);
    }
  });

  test("any Host is accepted", async () => {
    expect((await curl(`${open.endpoint}/version`, ["-H", "Host: evil.example:2379"])).status).toBe(200);
  });
});

describe("--cors with origins, --host-whitelist localhost,127.0.0.1", () => {
  test("only a listed origin gets the headers, naming itself", async () => {
    for (const origin of ["http://a.example:80", "https://b.example:8443"]) {
      const a = await curl(`${strict.endpoint}/health`, ["-H", `Origin: ${origin}`]);
      expect([a.status, corsOf(a)]).toEqual([200, ETCD_CORS(origin)]);
    }
    for (const args of [[], ["-H", "Origin: http://a.example"], ["-H", "Origin: http://c.example:80"]]) {
      const a = await curl(`${strict.endpoint}/health`, args);
      expect([a.status, a.body, corsOf(a)]).toEqual([200, '{"health":"true"}', {}]);
    }
    const pre = await curl(`${strict.endpoint}/v3/kv/put`, ["-X", "OPTIONS", "-H", "Origin: http://c.example:80", "-H", "Access-Control-Request-Method: POST"]);
    expect([pre.status, pre.body, corsOf(pre)]).toEqual([200, "", {}]);
  });

  test("a Host not listed gets 421 and etcd's text; listed hosts pass, ports ignored", async () => {
    const a = await curl(`${strict.endpoint}/version`, ["-H", "Host: evil.example:2379"]);
    expect(a).toEqual({
      status: 421,
      headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff", "content-length": "374" },
      body:
        "\netcd received your request, but the Host header was unrecognized.\n\nTo fix this, choose one of the following options:\n" +
        "- Enable TLS, then any HTTPS request will be allowed.\n- Add the hostname you want to use to the whitelist in settings.\n" +
        '  - e.g. etcd --host-whitelist "evil.example"\n\nThis requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).\n\n',
    });
    expect((await curl(`${strict.endpoint}/v3/kv/range`, ["-X", "OPTIONS", "-H", "Host: evil"])).status).toBe(421);
    expect((await curl(`${strict.endpoint}/health`, ["-H", "Host: [::1]:1"])).status).toBe(421);
    expect((await curl(`${strict.endpoint}/version`, ["-H", "Host: localhost:1"])).status).toBe(200);
    expect((await curl(`${strict.endpoint}/version`)).status).toBe(200);
  });

  test("gRPC is not affected", async () => {
    const r = await goEtcdctl(strict.endpoint, ["put", "k", "v"]);
    expect([r.code, r.stdout]).toEqual([0, "OK\n"]);
  });
});

test("over TLS the host whitelist is not checked", async () => {
  const a = await curl(`${secure.endpoint}/version`, ["-H", "Host: evil.example"], true);
  expect([a.status, corsOf(a)]).toEqual([200, ETCD_CORS("*")]);
  const plain = await curl(`${secure.endpoint}/version`, ["-H", "Host: localhost"], true);
  expect(plain.status).toBe(200);
  // HTTP/2 over TLS too (curl's later --http2 wins over --http1.1).
  const h2 = await curl(`${secure.endpoint}/version`, ["--http2", "-H", "Host: evil.example"], true);
  expect(h2.status).toBe(200);
});
