import { describe, expect, test } from "bun:test";
import { encodeWithoutIndexing, HpackDecoder, HpackError } from "./hpack.ts";
import { authorityNeedsRepair, repairAuthority } from "./authority-repair.ts";

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
