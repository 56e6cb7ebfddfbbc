import { describe, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { RangeResponseSchema, ResponseHeaderSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { KeyValueSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { encodeRangeResponse } from "./range-wire.ts";

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

describe("encodeRangeResponse", () => {
  test("an empty response, with and without a header", () => {
    const r = create(RangeResponseSchema, {});
    expect(encodeRangeResponse(r)).toEqual(toBinary(RangeResponseSchema, r));
    r.header = create(ResponseHeaderSchema, {});
    expect(encodeRangeResponse(r).length).toBe(2);
    expect(encodeRangeResponse(r)).toEqual(toBinary(RangeResponseSchema, r));
  });

  test("every field, with uint64 ids above 2^63, a negative lease and varint-length edges", () => {
    const kvs = [0, 1, 127, 128, 255, 16_383, 16_384, 70_000].map((n, i) =>
      create(KeyValueSchema, {
        key: bytes(i + 1, i),
        createRevision: BigInt(n),
        modRevision: BigInt(n) * 3n + 1n,
        version: BigInt(i),
        value: bytes(n),
        lease: i === 3 ? -5n : i === 4 ? 2n ** 62n + 1n : BigInt(n),
      }),
    );
    const r = create(RangeResponseSchema, {
      header: { clusterId: 2n ** 64n - 1n, memberId: 2n ** 63n + 17n, revision: 9_007_199_254_740_993n, raftTerm: 3n },
      kvs,
      more: true,
      count: 123_456_789n,
    });
    expect(encodeRangeResponse(r)).toEqual(toBinary(RangeResponseSchema, r));
  });

  test("a 10,000-key answer of 256-byte values", () => {
    const kvs = Array.from({ length: 10_000 }, (_, i) =>
      create(KeyValueSchema, { key: new TextEncoder().encode(`scale/${String(i).padStart(8, "0")}`), createRevision: BigInt(i + 2), modRevision: BigInt(i + 2), version: 1n, value: bytes(256) }),
    );
    const r = create(RangeResponseSchema, { header: { clusterId: 14841639068965178418n, memberId: 10276657743932975437n, revision: 10_001n, raftTerm: 2n }, kvs, count: 200_000n });
    expect(encodeRangeResponse(r)).toEqual(toBinary(RangeResponseSchema, r));
  });

  test("reserve leaves that many leading bytes before the same encoding (also on the toBinary fallback)", () => {
    const r = create(RangeResponseSchema, { header: { revision: 5n }, kvs: [create(KeyValueSchema, { key: bytes(3), value: bytes(300), version: 1n })], count: 1n });
    const plain = toBinary(RangeResponseSchema, r);
    const framed = encodeRangeResponse(r, 5);
    expect(framed.length).toBe(5 + plain.length);
    expect(framed.subarray(5)).toEqual(plain);
    r.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([5]) }];
    expect(encodeRangeResponse(r, 5).subarray(5)).toEqual(toBinary(RangeResponseSchema, r));
  });

  test("a message with unknown fields keeps them (falls back to toBinary)", () => {
    const r = create(RangeResponseSchema, { count: 1n });
    r.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([5]) }];
    expect(encodeRangeResponse(r)).toEqual(toBinary(RangeResponseSchema, r));
    expect(encodeRangeResponse(r).length).toBeGreaterThan(2);
  });
});
