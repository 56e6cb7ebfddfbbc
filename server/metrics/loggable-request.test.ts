import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { InternalRaftRequestSchema, RequestHeaderSchema } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  PutResponseSchema,
  RangeRequestSchema,
  ResponseHeaderSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { compactText } from "../../cli/go/proto-text.ts";
import { loggableRaftRequest, loggableResponseSize } from "./loggable-request.ts";

const enc = new TextEncoder();
const ID = 16134887051148131077n;

// Expected texts are the `request`/`response` fields of real etcd 3.4.23's
// `apply request took too long` lines (--experimental-warning-apply-duration 1ns) for the same requests.
test("applied requests are printed as etcd's InternalRaftStringer prints them", () => {
  const put = (fields: object) => loggableRaftRequest(create(InternalRaftRequestSchema, { ID, put: fields }));
  expect(put({ key: enc.encode("foo"), value: enc.encode("bar") })).toBe(`header:<ID:${ID} > put:<key:"foo" value_size:3 >`);
  expect(put({ key: enc.encode("foo"), value: enc.encode('ba"z'), prevKv: true })).toBe(`header:<ID:${ID} > put:<key:"foo" value_size:4 prev_kv:true >`);
  expect(put({ key: new Uint8Array([0x6b, 1, 0xff]), value: enc.encode("v") })).toBe(`header:<ID:${ID} > put:<key:"k\\001\\377" value_size:1 >`);
  const leaseGrant = create(InternalRaftRequestSchema, { ID, leaseGrant: { TTL: 10n, ID: 0x5feaa24966bbfb09n } });
  expect(loggableRaftRequest(leaseGrant)).toBe(`header:<ID:${ID} > lease_grant:<ttl:10-second id:5feaa24966bbfb09>`);
  const revoke = create(InternalRaftRequestSchema, { ID, leaseRevoke: { ID: 0x5feaa24966bbfb09n } });
  expect(loggableRaftRequest(revoke)).toBe(`header:<ID:${ID} > lease_revoke:<id:5feaa24966bbfb09>`);
  const del = create(InternalRaftRequestSchema, { ID, deleteRange: { key: enc.encode("foo") } });
  expect(loggableRaftRequest(del)).toBe(`header:<ID:${ID} > delete_range:<key:"foo" > `);
  const compaction = create(InternalRaftRequestSchema, { ID, compaction: { revision: 2n } });
  expect(loggableRaftRequest(compaction)).toBe(`header:<ID:${ID} > compaction:<revision:2 > `);
  const txn = create(InternalRaftRequestSchema, {
    ID,
    txn: {
      compare: [{ result: Compare_CompareResult.EQUAL, target: Compare_CompareTarget.VALUE, key: enc.encode("foo"), targetUnion: { case: "value", value: enc.encode("bar") } }],
      success: [
        { request: { case: "requestPut", value: { key: enc.encode("foo"), value: enc.encode("x") } } },
        { request: { case: "requestRange", value: { key: enc.encode("foo"), rangeEnd: enc.encode("fop") } } },
        { request: { case: "requestPut", value: { key: enc.encode("a"), value: enc.encode("b"), lease: 6911515014293355273n } } },
      ],
      failure: [{ request: { case: "requestDeleteRange", value: { key: enc.encode("foo") } } }],
    },
  });
  expect(loggableRaftRequest(txn)).toBe(
    `header:<ID:${ID} > txn:<compare:<target:VALUE key:"foo" value_size:3 > success:<request_put:<key:"foo" value_size:1 > request_range:<key:"foo" range_end:"fop" >  request_put:<key:"a" value_size:1 lease:6911515014293355273 >> failure:<request_delete_range:<key:"foo" > >>`,
  );
  // A sender with auth info: the header carries the user and auth revision.
  const authed = create(InternalRaftRequestSchema, { ID, header: { ID, username: "root", authRevision: 3n }, put: { key: enc.encode("k") } });
  expect(loggableRaftRequest(authed)).toBe(`header:<ID:${ID} username:"root" auth_revision:3 > put:<key:"k" >`);
});

test("read-only ranges and response sizes", () => {
  expect(compactText(RangeRequestSchema, create(RangeRequestSchema, { key: enc.encode("foo") }))).toBe('key:"foo" ');
  const all = create(RangeRequestSchema, { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), limit: 3n, keysOnly: true });
  expect(compactText(RangeRequestSchema, all)).toBe('key:"\\000" range_end:"\\000" limit:3 keys_only:true ');
  expect(compactText(RangeRequestSchema, create(RangeRequestSchema, { key: enc.encode("foo"), revision: 1n }))).toBe('key:"foo" revision:1 ');
  const full = create(ResponseHeaderSchema, { clusterId: 1n, memberId: 2n, revision: 2n, raftTerm: 2n });
  expect(loggableResponseSize(create(PutResponseSchema), full)).toBe("size:4");
  expect(loggableResponseSize(undefined, full)).toBe("");
  // The header username/revision of RequestHeader print in field order.
  expect(compactText(RequestHeaderSchema, create(RequestHeaderSchema, { ID: 1n }))).toBe("ID:1 ");
});
