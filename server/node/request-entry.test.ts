import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { InternalRaftRequestSchema, RequestHeaderSchema, V2RequestSchema, type V2Request } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { DeleteRangeRequestSchema, PutRequestSchema, type DeleteRangeRequest, type PutRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { decodeRequestEntry, encodeRequestEntry, type EntryHeader, type HandEncodedRequest } from "./request-entry.ts";

/** What propose() wrote before: the reflective encoder. */
function reference(id: bigint, r: HandEncodedRequest, h?: EntryHeader): Uint8Array {
  const req = create(InternalRaftRequestSchema, { ...r, ID: id });
  if (h) req.header = create(RequestHeaderSchema, { ID: id, username: h.username, authRevision: h.authRevision });
  return toBinary(InternalRaftRequestSchema, req);
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test("encodeRequestEntry writes the same bytes as toBinary for puts, deletes and v2 requests of every field combination", () => {
  const puts: PutRequest[] = [
    create(PutRequestSchema, {}),
    create(PutRequestSchema, { key: bytes(8, 0x61), value: bytes(256, 0x62) }),
    create(PutRequestSchema, { key: bytes(200, 1), value: bytes(70_000, 2), lease: 0x7fff_ffff_ffff_ffffn }),
    create(PutRequestSchema, { key: bytes(1, 0), lease: -1n, prevKv: true }),
    create(PutRequestSchema, { key: bytes(3, 9), lease: 127n, ignoreValue: true, ignoreLease: true }),
    create(PutRequestSchema, { value: bytes(128, 3), lease: 128n, prevKv: true, ignoreLease: true }),
  ];
  const deletes: DeleteRangeRequest[] = [
    create(DeleteRangeRequestSchema, {}),
    create(DeleteRangeRequestSchema, { key: bytes(8, 0x61) }),
    create(DeleteRangeRequestSchema, { key: bytes(1, 0), rangeEnd: bytes(1, 0), prevKv: true }),
    create(DeleteRangeRequestSchema, { key: bytes(300, 7), rangeEnd: bytes(200, 8) }),
  ];
  const v2s: V2Request[] = [
    create(V2RequestSchema, {}),
    create(V2RequestSchema, { Method: "PUT", Path: "/bench/3030303030303030", Val: "v".repeat(256) }),
    create(V2RequestSchema, { Method: "PUT", Path: "/ä/€", Val: "😀".repeat(40), PrevExist: false, Refresh: false }),
    create(V2RequestSchema, { Method: "PUT", Path: "/d", Dir: true, PrevExist: true, PrevValue: "old", PrevIndex: 128n, Expiration: 1_780_000_000_123_000_000n }),
    create(V2RequestSchema, { ID: 0xffff_ffff_ffff_ffffn, Method: "GET", Path: "/", Wait: true, Since: 300n, Recursive: true, Sorted: true, Quorum: true, Stream: true }),
    create(V2RequestSchema, { Method: "SYNC", Time: 1_780_000_000_000_000_000n, Expiration: -1n, Refresh: true }),
    create(V2RequestSchema, { Method: "DELETE", Path: "/x".repeat(100), PrevValue: "p", PrevIndex: 0x7fff_ffff_ffff_ffffn, Dir: true, Recursive: true }),
  ];
  const requests: HandEncodedRequest[] = [
    ...puts.map((put) => ({ put })),
    ...deletes.map((deleteRange) => ({ deleteRange })),
    ...v2s.map((v2) => ({ v2 })),
  ];
  const headers: (EntryHeader | undefined)[] = [
    undefined,
    { username: "", authRevision: 0n },
    { username: "root", authRevision: 1n },
    { username: "ü".repeat(100), authRevision: 0xffff_ffff_ffffn },
  ];
  const ids = [0n, 1n, 127n, 128n, 0xffff_ffffn, 0x1_0000_0000n, 0x7_ffff_ffffn, 0x8_0000_0000n, 0x1234_5678_9abc_def0n, 0xffff_ffff_ffff_ffffn];
  let compared = 0;
  let decoded = 0;
  for (const r of requests) {
    for (const h of headers) {
      for (const id of ids) {
        const data = encodeRequestEntry(id, r, h)!;
        expect(data).toEqual(reference(id, r, h));
        compared++;
        // Read back by hand as fromBinary reads it; v2 requests and a non-ASCII user name are left
        // to fromBinary.
        const back = decodeRequestEntry(data);
        if (r.v2 || h?.username.startsWith("ü")) expect(back).toBeUndefined();
        else (expect(back).toEqual(fromBinary(InternalRaftRequestSchema, data)), decoded++);
      }
    }
  }
  expect(compared).toBe(requests.length * headers.length * ids.length);
  expect(decoded).toBe((puts.length + deletes.length) * 3 * ids.length);
});

test("encodeRequestEntry leaves other requests, and requests with unknown fields, to toBinary", () => {
  const put = create(PutRequestSchema, { key: bytes(1, 1) });
  put.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
  expect(encodeRequestEntry(1n, { put })).toBeUndefined();
  const deleteRange = create(DeleteRangeRequestSchema, { key: bytes(1, 1) });
  deleteRange.$unknown = put.$unknown;
  expect(encodeRequestEntry(1n, { deleteRange })).toBeUndefined();
  const v2 = create(V2RequestSchema, { Method: "PUT" });
  v2.$unknown = put.$unknown;
  expect(encodeRequestEntry(1n, { v2 })).toBeUndefined();
  expect(encodeRequestEntry(1n, {})).toBeUndefined();
});

test("decodeRequestEntry leaves other requests, repeated or unknown fields and malformed bytes to fromBinary", () => {
  const put = create(PutRequestSchema, { key: bytes(2, 1), value: bytes(3, 2) });
  const data = encodeRequestEntry(5n, { put })!;
  expect(decodeRequestEntry(data)?.put?.key).toEqual(bytes(2, 1));
  const others = [
    toBinary(InternalRaftRequestSchema, create(InternalRaftRequestSchema, { ID: 1n, compaction: { revision: 3n } })),
    toBinary(InternalRaftRequestSchema, create(InternalRaftRequestSchema, { ID: 1n })),
    new Uint8Array([...data, ...data.subarray(2)]), // put twice (protobuf merges them)
    new Uint8Array([...data, 0x78, 0x01]), // unknown field 15
    data.subarray(0, data.length - 1), // truncated
  ];
  for (const other of others) expect(decodeRequestEntry(other)).toBeUndefined();
});
