import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PutRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { decodePutRequest } from "./put-request-wire.ts";

const enc = new TextEncoder();

/** decodePutRequest over `bytes` placed at an offset inside a larger buffer. */
function decodeAt(bytes: Uint8Array): ReturnType<typeof decodePutRequest> {
  const buf = Buffer.alloc(bytes.length + 8, 0xff);
  buf.set(bytes, 5);
  return decodePutRequest(buf, 5, 5 + bytes.length);
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
          const got = decodeAt(bytes);
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
