/**
 * h2-handover: connections whose first request has a good `:authority` reach the HTTP/2 server
 * as the socket itself; grpc-go's `http://host:port` authority, idle connections and clients
 * that wait for the server's SETTINGS before their first request (as grpc-go does) still work.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import net from "node:net";
import { AuthorityRepairStream } from "./authority-repair.ts";
import { handOverHttp2Connection, type Http2Connection } from "./h2-handover.ts";
import { encodeFrame as frame } from "./h2-frames.ts";
import { encodeWithoutIndexing } from "./hpack.ts";
import { InitialWindowRepairStream } from "./window-repair.ts";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
let server: net.Server;
let port: number;
/** What each accepted connection was handed over as, in order. */
const delivered: ("socket" | "repair" | "window")[] = [];
/** The :authority of each request the HTTP/2 server saw. */
const authorities: string[] = [];

beforeAll(async () => {
  const h2 = http2.createServer({}, (req, res) => {
    authorities.push(String(req.headers[":authority"]));
    res.end("ok");
  });
  server = net.createServer((socket) =>
    handOverHttp2Connection(
      socket,
      (conn: Http2Connection) => {
        delivered.push(conn instanceof AuthorityRepairStream ? "repair" : conn instanceof InitialWindowRepairStream ? "window" : "socket");
        h2.emit("connection", conn);
      },
      300,
      new Set(["/bulk"]),
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => server.close());

/**
 * A client that behaves as grpc-go's: preface and SETTINGS, then nothing until the server's
 * SETTINGS arrive; it acknowledges every SETTINGS frame, then sends one GET with `authority`
 * and resolves with the `:status` byte of the first HEADERS frame it gets back on stream 1.
 */
function waitingClient(authority: string, idleMs = 0, path = "/"): Promise<{ settingsFrames: number; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let settingsFrames = 0;
    let sent = false;
    socket.on("error", reject);
    socket.on("connect", () => socket.write(Buffer.concat([PREFACE, frame(0x4, 0, 0, new Uint8Array())])));
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const len = buf.readUIntBE(0, 3);
        const [type, flags] = [buf[3]!, buf[4]!];
        const streamId = buf.readUInt32BE(5);
        const payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === 0x4 && !(flags & 1)) {
          settingsFrames++;
          socket.write(frame(0x4, 1, 0, new Uint8Array()));
          if (!sent) {
            sent = true;
            const block = encodeWithoutIndexing([
              { name: ":method", value: "GET" },
              { name: ":scheme", value: "http" },
              { name: ":path", value: path },
              { name: ":authority", value: authority },
            ]);
            setTimeout(() => socket.write(frame(0x1, 0x4 | 0x1, 1, block)), idleMs);
          }
        } else if (type === 0x1 && streamId === 1) {
          // A response HEADERS block from Bun starts with an indexed :status (0x88 = 200).
          socket.destroy();
          resolve({ settingsFrames, status: payload[0]! });
        }
      }
    });
  });
}

test("a client that sends its request at once gets the socket itself", async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const body = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ":path": "/" });
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
  session.close();
  expect(body).toBe("ok");
  expect(delivered.at(-1)).toBe("socket");
});

test("a client waiting for the server's SETTINGS gets the socket, and the server's own SETTINGS too", async () => {
  const before = delivered.length;
  const got = await waitingClient(`127.0.0.1:${port}`);
  expect(got.status).toBe(0x88);
  expect(got.settingsFrames).toBe(2);
  expect(delivered.slice(before)).toEqual(["socket"]);
  expect(authorities.at(-1)).toBe(`127.0.0.1:${port}`);
});

test("grpc-go's `http://host:port` authority goes through the repair stream and is repaired", async () => {
  const before = delivered.length;
  const got = await waitingClient(`http://127.0.0.1:${port}`);
  expect(got.status).toBe(0x88);
  expect(delivered.slice(before)).toEqual(["repair"]);
  expect(authorities.at(-1)).toBe(`127.0.0.1:${port}`);
});

test("a connection idle past the deadline is served through the repair stream", async () => {
  const before = delivered.length;
  const got = await waitingClient(`127.0.0.1:${port}`, 500);
  expect(got.status).toBe(0x88);
  expect(delivered.slice(before)).toEqual(["repair"]);
});

test("a connection whose first request is to a bulk path goes through the window repair", async () => {
  const before = delivered.length;
  const got = await waitingClient(`127.0.0.1:${port}`, 0, "/bulk?x=1");
  expect(got.status).toBe(0x88);
  expect(delivered.slice(before)).toEqual(["window"]);
});
