import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DeleteRangeRequestSchema, PutRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { decodeDeleteRangeRequest, decodePutRequest } from "./request-wire.ts";

const enc = new TextEncoder();

/** `decode` (default decodePutRequest) over `bytes` placed at an offset inside a larger buffer. */
function decodeAt<T>(bytes: Uint8Array, decode: (buf: Uint8Array, start: number, end: number) => T = decodePutRequest as never): T {
  const buf = Buffer.alloc(bytes.length + 8, 0xff);
  buf.set(bytes, 5);
  return decode(buf, 5, 5 + bytes.length);
}

test("every combination of fields decodes as fromBinary does, into copies", () => {
  const keys = [new Uint8Array(0), enc.encode("k"), new Uint8Array(200).fill(7)];
  const values = [new Uint8Array(0), new Uint8Array(256).fill(97), new Uint8Array(20_000).fill(3)];
  const leases = [0n, 1n, 127n, 128n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -(2n ** 63n)];
  let n = 0;
  for (const key of keys)
    for (const value of values)
      for (const lease of leases)
        for (const flags of [0, 1, 2, 4, 7]) {
          const msg = create(PutRequestSchema, { key, value, lease, prevKv: (flags & 1) !== 0, ignoreValue: (flags & 2) !== 0, ignoreLease: (flags & 4) !== 0 });
          const bytes = toBinary(PutRequestSchema, msg);
          const got = decodeAt(bytes, decodePutRequest);
          expect(got).toStrictEqual(fromBinary(PutRequestSchema, bytes));
          expect(got!.value.constructor).toBe(Uint8Array);
          expect(got!.value.buffer.byteLength).toBe(value.length);
          n++;
        }
  expect(n).toBe(keys.length * values.length * leases.length * 5);
});

test("a repeated field's last occurrence wins; non-canonical varints read like fromBinary's", () => {
  const cases = [
    // key twice, lease twice
    [0x0a, 1, 0x61, 0x0a, 1, 0x62, 0x18, 5, 0x18, 6],
    // bool as 2, as a 10-byte varint with only bit 63 set, with a bit beyond 64 only
    [0x20, 2],
    [0x28, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    [0x30, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02],
    // a 10-byte lease, a padded length
    [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    [0x12, 0x82, 0x00, 0x61, 0x62],
  ].map((c) => new Uint8Array(c));
  for (const bytes of cases) expect(decodeAt(bytes)).toStrictEqual(fromBinary(PutRequestSchema, bytes));
});

test("unknown fields, wrong wire types and broken messages are left to fromBinary", () => {
  const cases = [
    [0x38, 1], // field 7
    [0x0a, 1, 0x61, 0x42, 0], // field 8, length-delimited
    [0x08, 1], // key as a varint
    [0x0a, 5, 0x61], // truncated bytes
    [0x18, 0x80], // truncated varint
    [0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // 11-byte varint
    [0x8a, 0x00, 0], // non-canonical tag
  ].map((c) => new Uint8Array(c));
  for (const bytes of cases) expect(decodeAt(bytes)).toBeUndefined();
  // The empty message is a PutRequest with every default.
  expect(decodeAt(new Uint8Array(0))).toStrictEqual(create(PutRequestSchema));
});

test("DeleteRangeRequest: every combination of fields, repeats, bad input as fromBinary reads them", () => {
  const keys = [new Uint8Array(0), enc.encode("k"), new Uint8Array(200).fill(7)];
  const ends = [new Uint8Array(0), new Uint8Array([0]), enc.encode("l"), new Uint8Array(300).fill(9)];
  let n = 0;
  for (const key of keys)
    for (const rangeEnd of ends)
      for (const prevKv of [false, true]) {
        const bytes = toBinary(DeleteRangeRequestSchema, create(DeleteRangeRequestSchema, { key, rangeEnd, prevKv }));
        const got = decodeAt(bytes, decodeDeleteRangeRequest);
        expect(got).toStrictEqual(fromBinary(DeleteRangeRequestSchema, bytes));
        expect(got!.key.buffer.byteLength).toBe(key.length);
        n++;
      }
  expect(n).toBe(keys.length * ends.length * 2);
  const read = [[0x0a, 1, 0x61, 0x0a, 1, 0x62, 0x18, 1, 0x18, 0], [0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0x12, 0x82, 0x00, 0x61, 0x62]];
  for (const c of read) expect(decodeAt(new Uint8Array(c), decodeDeleteRangeRequest)).toStrictEqual(fromBinary(DeleteRangeRequestSchema, new Uint8Array(c)));
  const left = [[0x20, 1], [0x08, 1], [0x0a, 5, 0x61], [0x18, 0x80], [0x22, 0]];
  for (const c of left) expect(decodeAt(new Uint8Array(c), decodeDeleteRangeRequest)).toBeUndefined();
  expect(decodeAt(new Uint8Array(0), decodeDeleteRangeRequest)).toStrictEqual(create(DeleteRangeRequestSchema));
});
