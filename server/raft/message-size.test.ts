import { expect, test } from "bun:test";
import { toBinary } from "@bufbuild/protobuf";
import { MessageSchema } from "../../proto/gen/raftpb/raft_pb.ts";
import { raftMessageSize, varintSize } from "./message-size.ts";
import { EntryType, MessageType, makeMessage } from "./types.ts";
import { messageToProto } from "./wire.ts";

test("varint sizes, numbers and bigints", () => {
  expect([0, 1, 127, 128, 16383, 16384, 2 ** 53 - 1].map(varintSize)).toEqual([1, 1, 1, 2, 2, 3, 8]);
  for (let bits = 1; bits <= 53; bits++) {
    for (const v of [2 ** bits - 1, 2 ** bits]) if (v < 2 ** 53) expect(varintSize(v)).toBe(Math.max(1, Math.ceil(v.toString(2).length / 7)));
  }
  expect([0n, 127n, 128n, 2n ** 63n, 2n ** 64n - 1n].map(varintSize)).toEqual([1, 1, 2, 10, 10]);
  // Around every power of two above 2^53 (member IDs): 7 bits per byte.
  for (let bit = 53n; bit < 64n; bit++) {
    for (const v of [2n ** bit - 1n, 2n ** bit, 2n ** bit + 1n]) expect(varintSize(v)).toBe(Math.ceil(v.toString(2).length / 7));
  }
});

test("a heartbeat counts every field, zero or not, and the empty snapshot, as gogo's Size()", () => {
  // raft.pb.go Message.Size(): 7 scalars of 1+1 bytes, snapshot 1+1+10 (metadata 1+1+8: conf
  // state 1+1+2 for auto_leave, index 1+1, term 1+1), reject 2, reject_hint 1+1.
  const hb = makeMessage({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 5, commit: 3 });
  expect(raftMessageSize(hb)).toBe(30);
  // A 16-byte context (ReadIndex) adds 1+1+16; member IDs of 64 bits take 10 bytes each.
  const ctx = makeMessage({ type: MessageType.MsgHeartbeat, to: 2n ** 63n, from: 2n ** 63n + 1n, term: 5, commit: 3, context: new Uint8Array(16) });
  expect(raftMessageSize(ctx)).toBe(30 + 18 + 2 * 9);
});

test("entries and snapshots: the proto3 encoding of a message with every field set differs only by auto_leave", () => {
  const full = makeMessage({
    type: MessageType.MsgSnap,
    to: 0x8e9e05c52164694dn,
    from: 0x91bc3c398fb3c146n,
    term: 7,
    logTerm: 6,
    index: 300,
    entries: [{ term: 7, index: 301, type: EntryType.EntryConfChange, data: new Uint8Array(200) }],
    commit: 299,
    snapshot: { data: new Uint8Array(5000), metadata: { confState: { voters: [1n, 2n, 3n], learners: [4n] }, index: 299, term: 6 } },
    reject: true,
    rejectHint: 12,
    context: new Uint8Array([1, 2, 3]),
  });
  // proto3 leaves out nothing here but ConfState's auto_leave (gogo: always 2 bytes).
  expect(raftMessageSize(full)).toBe(toBinary(MessageSchema, messageToProto(full)).length + 2);
  // An entry without data (the leader's empty entry) has no data field, as a nil slice in Go.
  const app = makeMessage({ type: MessageType.MsgApp, to: 1n, from: 2n, term: 2, entries: [{ term: 2, index: 1, type: EntryType.EntryNormal, data: new Uint8Array() }] });
  expect(raftMessageSize(app)).toBe(30 + 1 + 1 + 6);
});
