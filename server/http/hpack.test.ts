import { describe, expect, test } from "bun:test";
import { encodeWithoutIndexing, HpackDecoder, HpackError } from "./hpack.ts";
import { PassThrough } from "node:stream";
import { encodeFrame as frame } from "./h2-frames.ts";
import { AuthorityRepairStream, authorityNeedsRepair, repairAuthority } from "./authority-repair.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

describe("HpackDecoder", () => {
  test("RFC 7541 C.4: requests with Huffman coding, one decoder across blocks", () => {
    const d = new HpackDecoder();
    expect(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))).toEqual([
      { name: ":method", value: "GET" },
      { name: ":scheme", value: "http" },
      { name: ":path", value: "/" },
      { name: ":authority", value: "www.example.com" },
    ]);
    expect(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf"))).toEqual([
      { name: ":method", value: "GET" },
      { name: ":scheme", value: "http" },
      { name: ":path", value: "/" },
      { name: ":authority", value: "www.example.com" },
      { name: "cache-control", value: "no-cache" },
    ]);
    expect(d.decode(hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 8925 a849 e95b b8e8 b4bf"))).toEqual([
      { name: ":method", value: "GET" },
      { name: ":scheme", value: "https" },
      { name: ":path", value: "/index.html" },
      { name: ":authority", value: "www.example.com" },
      { name: "custom-key", value: "custom-value" },
    ]);
  });

  test("RFC 7541 C.3.1: plain literals", () => {
    expect(new HpackDecoder().decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"))).toContainEqual({
      name: ":authority",
      value: "www.example.com",
    });
  });

  test("malformed blocks throw HpackError", () => {
    expect(() => new HpackDecoder().decode(hex("be"))).toThrow(HpackError); // dynamic index into an empty table
    expect(() => new HpackDecoder().decode(hex("410f7777"))).toThrow(HpackError); // truncated string
  });

  test("encodeWithoutIndexing round-trips and leaves the table empty", () => {
    const fields = [
      { name: ":authority", value: "127.0.0.1:2379" },
      { name: "x-long", value: "v".repeat(300) },
    ];
    const d = new HpackDecoder();
    expect(d.decode(encodeWithoutIndexing(fields))).toEqual(fields);
    expect(() => d.decode(hex("be"))).toThrow(HpackError);
  });
});

describe("authority repair", () => {
  test("which authorities are malformed, and their repair", () => {
    expect(authorityNeedsRepair("127.0.0.1:2379")).toBe(false);
    expect(authorityNeedsRepair("[::1]:2379")).toBe(false);
    expect(authorityNeedsRepair("http://127.0.0.1:2379")).toBe(true);
    expect(repairAuthority("http://127.0.0.1:2379")).toBe("127.0.0.1:2379");
    expect(repairAuthority("passthrough:///localhost:2379")).toBe("localhost:2379");
    expect(repairAuthority("a b")).toBe("localhost");
  });
});

describe("AuthorityRepairStream", () => {
  const lit = (s: string) => [s.length, ...Buffer.from(s, "latin1")];

  test("repairs a padded, prioritised, continued header block and later blocks that index it", async () => {
    const socket = new PassThrough();
    const stream = new AuthorityRepairStream(socket as never);
    const out: Buffer[] = [];
    stream.on("data", (c: Buffer) => out.push(c));
    // Block 1: :method POST (idx 3), :authority http://h:1 with incremental indexing (0x41), x-a: b literal.
    const block1 = Uint8Array.from([0x83, 0x41, ...lit("http://h:1"), 0x00, ...lit("x-a"), ...lit("b")]);
    const settings = frame(0x4, 0, 0, new Uint8Array());
    const headers = frame(0x1, 0x8 | 0x20, 1, Uint8Array.from([2, 0, 0, 0, 0, 16, ...block1.subarray(0, 4), 0, 0]));
    const continuation = frame(0x9, 0x4, 1, block1.subarray(4));
    // Block 2 on stream 3: :method POST, :authority from the dynamic table (index 62), END_STREAM.
    const headers2 = frame(0x1, 0x4 | 0x1, 3, Uint8Array.from([0x83, 0xbe]));
    socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), settings, headers]));
    socket.write(Buffer.concat([continuation, headers2]));
    await new Promise((r) => setTimeout(r, 20));
    const all = Buffer.concat(out);
    expect(all.subarray(0, 24).toString("latin1")).toBe("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    expect(all.subarray(24, 33).equals(settings)).toBe(true);
    const frames: { type: number; flags: number; stream: number; payload: Buffer }[] = [];
    for (let at = 33; at < all.length; ) {
      const len = all.readUIntBE(at, 3);
      frames.push({ type: all[at + 3]!, flags: all[at + 4]!, stream: all.readUInt32BE(at + 5), payload: all.subarray(at + 9, at + 9 + len) });
      at += 9 + len;
    }
    expect(frames.map((f) => [f.type, f.flags, f.stream])).toEqual([
      [0x1, 0x20 | 0x4, 1],
      [0x1, 0x1 | 0x4, 3],
    ]);
    expect(frames[0]!.payload.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 16]));
    const server = new HpackDecoder();
    expect(server.decode(frames[0]!.payload.subarray(5))).toEqual([
      { name: ":method", value: "POST" },
      { name: ":authority", value: "h:1" },
      { name: "x-a", value: "b" },
    ]);
    expect(server.decode(frames[1]!.payload)).toEqual([
      { name: ":method", value: "POST" },
      { name: ":authority", value: "h:1" },
    ]);
    expect(stream.repairing).toBe(true);
    stream.destroy();
  });
});
