/**
 * window-repair: a client that raises SETTINGS_INITIAL_WINDOW_SIZE after its stream already got
 * WINDOW_UPDATEs (as grpc-go's BDP estimator does) is owed the difference on that stream
 * (RFC 9113 §6.9.2). Bun's HTTP/2 server alone does not pay it; through
 * InitialWindowRepairStream it does. The first test pins Bun's behaviour: when it fails, Bun
 * fixed its bookkeeping and the repair stream must be removed (it would grant twice).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import net from "node:net";
import { encodeFrame as frame, FLAG_ACK, TYPE_DATA, TYPE_HEADERS, TYPE_SETTINGS, TYPE_WINDOW_UPDATE } from "./h2-frames.ts";
import { encodeWithoutIndexing } from "./hpack.ts";
import { InitialWindowRepairStream } from "./window-repair.ts";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** The response body: far more than any window the tests open. */
const BODY_BYTES = 4 * 1024 * 1024;

let server: net.Server;
let port: number;
/** Whether the next accepted connection goes through the repair stream. */
let repair = false;

beforeAll(async () => {
  const h2 = http2.createServer({}, (_req, res) => {
    res.writeHead(200);
    res.end(Buffer.alloc(BODY_BYTES, 7));
  });
  server = net.createServer((socket) => h2.emit("connection", repair ? new InitialWindowRepairStream(socket) : socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => server.close());

const settings = (initialWindow: number) => {
  const p = Buffer.alloc(6);
  p.writeUInt16BE(4, 0);
  p.writeUInt32BE(initialWindow, 2);
  return frame(TYPE_SETTINGS, 0, 0, p);
};
const windowUpdate = (streamId: number, increment: number) => {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment);
  return frame(TYPE_WINDOW_UPDATE, 0, streamId, p);
};

/**
 * Opens stream 1 with default windows, lets the server fill the 65,535-octet stream window,
 * grants the stream 65,535 more by WINDOW_UPDATE (and the connection plenty), lets that be
 * sent, then raises SETTINGS_INITIAL_WINDOW_SIZE to `raisedTo`. Once `expected` DATA octets
 * arrived (rejects if they do not within 2 s), waits a moment longer for any octets beyond
 * them and resolves with the total.
 */
function dataAfterRaise(raisedTo: number, expected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let data = 0;
    const block = encodeWithoutIndexing([
      { name: ":method", value: "GET" },
      { name: ":scheme", value: "http" },
      { name: ":path", value: "/" },
      { name: ":authority", value: "localhost" },
    ]);
    socket.on("connect", () => socket.write(Buffer.concat([PREFACE, frame(TYPE_SETTINGS, 0, 0, Buffer.alloc(0)), frame(TYPE_HEADERS, 0x5, 1, Buffer.from(block))])));
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const length = buf.readUIntBE(0, 3);
        if (buf[3] === TYPE_DATA) data += length;
        if (buf[3] === TYPE_SETTINGS && (buf[4]! & FLAG_ACK) === 0) socket.write(frame(TYPE_SETTINGS, FLAG_ACK, 0, Buffer.alloc(0)));
        buf = buf.subarray(9 + length);
      }
    });
    socket.on("error", reject);
    const until = async (octets: number) => {
      for (let i = 0; i < 200 && data < octets; i++) await Bun.sleep(10);
      if (data < octets) throw new Error(`only ${data} octets arrived, expected ${octets}`);
    };
    void (async () => {
      await until(65535);
      socket.write(Buffer.concat([windowUpdate(0, 16 * 1024 * 1024), windowUpdate(1, 65535)]));
      await until(2 * 65535);
      socket.write(settings(raisedTo));
      await until(expected);
      await Bun.sleep(200); // octets the server should not have sent would arrive now
      socket.destroy();
      resolve(data);
    })().catch(reject);
  });
}

test("Bun alone loses a raise of the initial window on a stream that got WINDOW_UPDATEs", async () => {
  repair = false;
  // Owed: 2 × 65,535 already sent plus the raise (262,140 − 65,535); Bun stops at the new size.
  expect(await dataAfterRaise(262_140, 262_140)).toBe(262_140);
});

test("through the repair stream the open stream gets the whole raise", async () => {
  repair = true;
  const owed = 2 * 65535 + (262_140 - 65535);
  expect(await dataAfterRaise(262_140, owed)).toBe(owed);
});

/** Lets the stream's pushed chunks reach its 'data' listeners. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

test("streams are forgotten once the server ends them, and a lowered setting adds nothing", async () => {
  const fake = new net.Socket();
  fake.write = ((_chunk: unknown, cb?: () => void) => {
    cb?.();
    return true;
  }) as typeof fake.write;
  const stream = new InitialWindowRepairStream(fake);
  const block = Buffer.from(encodeWithoutIndexing([{ name: ":path", value: "/" }]));
  const read: Buffer[] = [];
  stream.on("data", (c: Buffer) => read.push(c));
  fake.emit("data", Buffer.concat([PREFACE, frame(TYPE_HEADERS, 0x5, 1, block), frame(TYPE_HEADERS, 0x5, 3, block)]));
  expect(stream.openStreams).toEqual([1, 3]);
  // The server ends stream 1 (DATA with END_STREAM), written in two pieces across its header.
  const end = frame(TYPE_DATA, 0x1, 1, Buffer.alloc(10));
  stream.write(end.subarray(0, 4));
  stream.write(end.subarray(4));
  expect(stream.openStreams).toEqual([3]);
  await tick();
  read.length = 0;
  fake.emit("data", settings(100_000));
  await tick();
  expect(Buffer.concat(read).toString("hex")).toBe(Buffer.concat([windowUpdate(3, 100_000 - 65535), settings(100_000)]).toString("hex"));
  read.length = 0;
  fake.emit("data", settings(70_000));
  await tick();
  expect(Buffer.concat(read).toString("hex")).toBe(settings(70_000).toString("hex"));
  stream.destroy();
});
