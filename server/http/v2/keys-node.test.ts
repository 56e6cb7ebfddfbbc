import { describe, expect, test } from "bun:test";
import * as http from "node:http";
import * as net from "node:net";
import { isFastKeysTarget, readText } from "./keys-node.ts";

describe("isFastKeysTarget", () => {
  test("serves clean /v2/keys writes", () => {
    expect(isFastKeysTarget("PUT", "/v2/keys/a")).toBe(true);
    expect(isFastKeysTarget("PUT", "/v2/keys")).toBe(true);
    expect(isFastKeysTarget("POST", "/v2/keys/q?value=1")).toBe(true);
    expect(isFastKeysTarget("DELETE", "/v2/keys/dir/?recursive=true")).toBe(true);
    expect(isFastKeysTarget("PUT", "/v2/keys/a%20b")).toBe(true);
  });

  test("leaves reads, watches, other paths and what Go's mux redirects to the hono route", () => {
    expect(isFastKeysTarget("GET", "/v2/keys/a")).toBe(false);
    expect(isFastKeysTarget("HEAD", "/v2/keys/a")).toBe(false);
    expect(isFastKeysTarget("PATCH", "/v2/keys/a")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keysx")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/members")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys//a")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/a/../b")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/%2e%2e/b")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/%zz")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/a\\b")).toBe(false);
    expect(isFastKeysTarget("PUT", "http://h/v2/keys/a")).toBe(false);
  });
});

describe("readText", () => {
  // A node:http server fed accepted sockets (as the client listener does): answers each request's body.
  async function withEchoServer(run: (port: number) => Promise<void>): Promise<void> {
    const h1 = http.createServer((req, res) => {
      void readText(req).then((text) => res.end(`[${text}]`));
    });
    const server = net.createServer((socket) => h1.emit("connection", socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await run((server.address() as net.AddressInfo).port);
    } finally {
      server.close();
      h1.closeAllConnections();
    }
  }

  /** Sends `parts` on one connection, a pause between them, and returns what came back. */
  async function exchange(port: number, parts: string[]): Promise<string> {
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (d) => (got += d.toString("utf8")));
    await new Promise((resolve) => socket.once("connect", resolve));
    for (const p of parts) {
      socket.write(p);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const until = Date.now() + 2000;
    while (!got.endsWith("]") && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.destroy();
    return got.slice(got.indexOf("\r\n\r\n") + 4);
  }

  const head = (length: number) => `PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`;

  test("a body sent with its headers, one sent after them, and a chunked one split in two", async () => {
    await withEchoServer(async (port) => {
      expect(await exchange(port, [head(9) + "value=h\u00e9"])).toBe("[value=h\u00e9]");
      expect(await exchange(port, [head(11), "value=hello"])).toBe("[value=hello]");
      const chunked = "PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
      expect(await exchange(port, [chunked + "6\r\nvalue=\r\n", "2\r\nab\r\n0\r\n\r\n"])).toBe("[value=ab]");
      expect(await exchange(port, [head(0)])).toBe("[]");
      // Larger than a stream's 16 KiB high-water mark and than one socket read.
      const big = "value=" + "x".repeat(200_000);
      expect(await exchange(port, [head(big.length) + big])).toBe(`[${big}]`);
    });
  });
});
