import { afterEach, describe, expect, test } from "bun:test";
import * as http from "node:http";
import * as net from "node:net";
import { serveHttp1Connection, type FastAnswer, type FastRequest } from "./http1-fast-path.ts";
import type { ListenerCancellation } from "../api/call-cancellation.ts";

/** A port whose connections go through the fast path (taking `PUT /fast...`) in front of a node:http server. */
async function startServer(
  answer: (req: FastRequest, signal: ListenerCancellation) => Promise<FastAnswer>,
  takes = (method: string, url: string) => method === "PUT" && url.startsWith("/fast"),
) {
  const h1 = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.setHeader("x-served-by", "node");
      res.end(`node ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
    });
  });
  const server = net.createServer((socket) =>
    serveHttp1Connection(socket, {
      takes,
      answer,
      handOff: (s) => h1.emit("connection", s),
      keepAliveTimeoutSecs: 5,
      maxHeaderSize: 0,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const echo = async (req: FastRequest): Promise<FastAnswer> => ({
  status: 201,
  headers: [["content-type", "text/plain"], ["x-served-by", "fast"]],
  body: `fast ${req.method} ${req.url} ${req.body} ${req.header("content-type")}`,
});

/** Writes `parts` (a pause between them) and reads until `answers` complete answers came back or the server closed. */
async function exchange(port: number, parts: string[], answers: number): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  let text = "";
  const done = new Promise<void>((resolve) => {
    const count = () => (text.match(/HTTP\/1\.1 \d+/g) ?? []).length;
    socket.on("data", (d: Buffer) => {
      text += d.toString();
      const bodies = [...text.matchAll(/Content-Length: (\d+)\r\n\r\n/gi)];
      if (count() >= answers && bodies.length >= answers) {
        const last = bodies[bodies.length - 1]!;
        if (text.length >= last.index! + last[0].length + Number(last[1])) resolve();
      }
    });
    socket.on("close", () => resolve());
  });
  for (const p of parts) {
    socket.write(p);
    await Bun.sleep(30);
  }
  await done;
  socket.destroy();
  return text;
}

const put = (path: string, body: string, extra = "") =>
  `PUT ${path} HTTP/1.1\r\nHost: h\r\nContent-Type: text/x\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;
const servedBy = (text: string) => [...text.matchAll(/^(?:fast|node) \S+ \S+/gm)].map((m) => m[0]);

describe("serveHttp1Connection", () => {
  test("answers a taken request in the bytes node:http writes for res.end(body)", async () => {
    const port = await startServer(echo);
    const text = await exchange(port, [put("/fast/a", "v=1")], 1);
    expect(text.replace(/Date: [^\r]+/, "Date: D")).toBe(
      "HTTP/1.1 201 Created\r\ncontent-type: text/plain\r\nx-served-by: fast\r\nDate: D\r\nConnection: keep-alive\r\n" +
        "Keep-Alive: timeout=5\r\nContent-Length: 27\r\n\r\nfast PUT /fast/a v=1 text/x",
    );
    // node:http's own answer to the same request (its fallback for emitted sockets) has the same shape.
    const h1 = http.createServer((_req, res) => {
      res.statusCode = 201;
      res.setHeader("content-type", "text/plain");
      res.setHeader("x-served-by", "fast");
      res.end("fast PUT /fast/a v=1 text/x");
    });
    const plain = net.createServer((s) => h1.emit("connection", s));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    servers.push(plain);
    const nodeText = await exchange((plain.address() as net.AddressInfo).port, [put("/fast/a", "v=1")], 1);
    expect(nodeText.replace(/Date: [^\r]+/, "Date: D")).toBe(text.replace(/Date: [^\r]+/, "Date: D"));
  });

  test("hands the connection to node:http at the first request it does not take, answers in order", async () => {
    const port = await startServer(echo);
    const text = await exchange(port, [put("/fast/1", "a"), get("/other"), put("/fast/2", "b")], 3);
    expect(servedBy(text)).toEqual(["fast PUT /fast/1", "node GET /other", "node PUT /fast/2"]);
  });

  test("a request split over several reads is still answered here", async () => {
    const port = await startServer(echo);
    const whole = put("/fast/split", "value=4");
    const text = await exchange(port, [whole.slice(0, 20), whole.slice(20, whole.length - 3), whole.slice(whole.length - 3)], 1);
    expect(servedBy(text)).toEqual(["fast PUT /fast/split"]);
    expect(text).toContain("fast PUT /fast/split value=4 text/x");
  });

  test("requests pipelined in one read all go to node:http, in order", async () => {
    const port = await startServer(echo);
    const text = await exchange(port, [put("/fast/1", "a") + put("/fast/2", "b") + get("/x")], 3);
    expect(servedBy(text)).toEqual(["node PUT /fast/1", "node PUT /fast/2", "node GET /x"]);
  });

  test("answers keep request order when an earlier answer takes longer", async () => {
    let first = true;
    const port = await startServer(async (req, signal) => {
      if (first) {
        first = false;
        await Bun.sleep(150);
      }
      return echo(req);
    });
    const text = await exchange(port, [put("/fast/slow", "a"), put("/fast/quick", "b"), get("/after")], 3);
    expect(servedBy(text)).toEqual(["fast PUT /fast/slow", "fast PUT /fast/quick", "node GET /after"]);
  });

  test("what it does not take goes to node:http: HTTP/1.0, Connection: close, no body, two Content-Types, chunked, a bad request", async () => {
    const port = await startServer(echo);
    expect(await exchange(port, ["PUT /fast/a HTTP/1.0\r\nContent-Length: 1\r\n\r\nz"], 1)).toContain("node PUT /fast/a z");
    expect(await exchange(port, [put("/fast/a", "z", "Connection: close\r\n")], 1)).toContain("node PUT /fast/a z");
    expect(await exchange(port, [put("/fast/a", "")], 1)).toContain("node PUT /fast/a");
    expect(await exchange(port, [put("/fast/a", "z", "Content-Type: text/y\r\n")], 1)).toContain("node PUT /fast/a z");
    const chunked = "PUT /fast/a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n";
    expect(await exchange(port, [chunked], 1)).toContain("node PUT /fast/a z");
    const bad = await exchange(port, [put("/fast/a", "z", "Content-Length: 2\r\n")], 1);
    expect(bad).toStartWith("HTTP/1.1 400 Bad Request");
  });

  test("a failed answer is hono's 500, and the connection goes on", async () => {
    const port = await startServer(async (req) => {
      if (req.url === "/fast/fail") throw new Error("boom");
      return echo(req);
    });
    const text = await exchange(port, [put("/fast/fail", "a"), put("/fast/ok", "b")], 2);
    expect(text).toStartWith("HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=UTF-8\r\n");
    expect(servedBy(text)).toEqual(["fast PUT /fast/ok"]);
  });

  test("a request whose check throws goes to node:http (nothing escapes the parser's callback)", async () => {
    const port = await startServer(echo, () => {
      throw new Error("takes failed");
    });
    expect(servedBy(await exchange(port, [put("/fast/a", "z")], 1))).toEqual(["node PUT /fast/a"]);
  });

  test("the client going away aborts the answers it waits for", async () => {
    let aborted: Promise<boolean> | undefined;
    const port = await startServer((req, signal) => {
      aborted = new Promise((resolve) => signal.addEventListener("abort", () => resolve(true)));
      return new Promise(() => {});
    });
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(put("/fast/hang", "a"));
    await Bun.sleep(50);
    socket.destroy();
    expect(await aborted).toBe(true);
  });
});
