import { expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { InternalRaftRequestSchema, RequestHeaderSchema } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { PutRequestSchema, type PutRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { encodePutEntry, type PutEntryHeader } from "./put-entry.ts";

/** What propose() wrote before: the reflective encoder. */
function reference(id: bigint, put: PutRequest, h?: PutEntryHeader): Uint8Array {
  const req = create(InternalRaftRequestSchema, { put, ID: id });
  if (h) req.header = create(RequestHeaderSchema, { ID: id, username: h.username, authRevision: h.authRevision });
  return toBinary(InternalRaftRequestSchema, req);
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test("encodePutEntry writes the same bytes as toBinary for puts of every field combination", () => {
  const puts: PutRequest[] = [
    create(PutRequestSchema, {}),
    create(PutRequestSchema, { key: bytes(8, 0x61), value: bytes(256, 0x62) }),
    create(PutRequestSchema, { key: bytes(200, 1), value: bytes(70_000, 2), lease: 0x7fff_ffff_ffff_ffffn }),
    create(PutRequestSchema, { key: bytes(1, 0), lease: -1n, prevKv: true }),
    create(PutRequestSchema, { key: bytes(3, 9), lease: 127n, ignoreValue: true, ignoreLease: true }),
    create(PutRequestSchema, { value: bytes(128, 3), lease: 128n, prevKv: true, ignoreLease: true }),
  ];
  const headers: (PutEntryHeader | undefined)[] = [
    undefined,
    { username: "", authRevision: 0n },
    { username: "root", authRevision: 1n },
    { username: "ü".repeat(100), authRevision: 0xffff_ffff_ffffn },
  ];
  const ids = [0n, 1n, 127n, 128n, 0xffff_ffffn, 0x1_0000_0000n, 0x7_ffff_ffffn, 0x8_0000_0000n, 0x1234_5678_9abc_def0n, 0xffff_ffff_ffff_ffffn];
  let compared = 0;
  for (const put of puts) {
    for (const h of headers) {
      for (const id of ids) {
        expect(encodePutEntry(id, put, h)).toEqual(reference(id, put, h));
        compared++;
      }
    }
  }
  expect(compared).toBe(puts.length * headers.length * ids.length);
});

test("encodePutEntry leaves a put with unknown fields to toBinary", () => {
  const put = create(PutRequestSchema, { key: bytes(1, 1) });
  put.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
  expect(encodePutEntry(1n, put)).toBeUndefined();
});
