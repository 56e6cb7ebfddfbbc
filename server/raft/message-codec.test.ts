import { expect, test } from "bun:test";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { MessageSchema } from "../../proto/gen/raftpb/raft_pb.ts";
import { decodeMessage, encodeMessage } from "./message-codec.ts";
import { Prng } from "./prng.ts";
import { EntryType, MessageType, emptySnapshot, makeMessage, type Message } from "./types.ts";
import { messageFromProto, messageToProto } from "./wire.ts";

/** Values at the varint length boundaries, zero (left out of the encoding) included. */
const NUMBERS = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32, 2 ** 35 - 1, 2 ** 53 - 1];
const IDS = [0n, 1n, 127n, 128n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 56n - 1n, 2n ** 56n, 2n ** 63n, 0x8e9e05c52164694dn, 2n ** 64n - 1n];

function randomMessage(r: Prng): Message {
  const pick = <T>(xs: readonly T[]) => xs[r.range(0, xs.length - 1)]!;
  const bytes = () => (r.chance(0.3) ? new Uint8Array(0) : Uint8Array.from({ length: r.range(1, 300) }, () => r.range(0, 255)));
  return makeMessage({
    type: pick([MessageType.MsgHup, MessageType.MsgApp, MessageType.MsgAppResp, MessageType.MsgHeartbeat, MessageType.MsgPreVoteResp]),
    to: pick(IDS),
    from: pick(IDS),
    term: pick(NUMBERS),
    logTerm: pick(NUMBERS),
    index: pick(NUMBERS),
    entries: Array.from({ length: r.range(0, 4) }, () => ({
      term: pick(NUMBERS),
      index: pick(NUMBERS),
      type: pick([EntryType.EntryNormal, EntryType.EntryConfChange]),
      data: bytes(),
    })),
    commit: pick(NUMBERS),
    snapshot: r.chance(0.1)
      ? { data: bytes(), metadata: { confState: { voters: r.chance(0.5) ? [pick(IDS), 3n] : [], learners: [] }, index: pick(NUMBERS), term: pick(NUMBERS) } }
      : r.chance(0.05)
        ? emptySnapshot()
        : undefined,
    reject: r.chance(0.5),
    rejectHint: pick(NUMBERS),
    context: bytes(),
  });
}

test("encodes what protobuf-es encodes and decodes what it encodes, byte for byte (500 seeded messages)", () => {
  const r = new Prng(20261206);
  for (let i = 0; i < 500; i++) {
    const m = randomMessage(r);
    const ours = encodeMessage(m);
    const theirs = toBinary(MessageSchema, messageToProto(m));
    expect(ours).toEqual(theirs);
    expect(messageFromProto(fromBinary(MessageSchema, ours))).toEqual(m);
    expect(decodeMessage(theirs)).toEqual(m);
  }
});

test("decoding skips unknown fields, takes fields in any order and gives entry data as views of the input", () => {
  const m = makeMessage({ type: MessageType.MsgApp, to: 2n, from: 1n, term: 3, entries: [{ term: 3, index: 9, type: EntryType.EntryNormal, data: new Uint8Array([7, 8]) }] });
  const body = encodeMessage(m);
  // Field 15 (varint 5) and field 14 (length 2) before the real fields, and the term again last (last one wins).
  const bytes = Uint8Array.from([15 << 3, 5, (14 << 3) | 2, 2, 0xaa, 0xbb, ...body, 4 << 3, 4]);
  const got = decodeMessage(bytes);
  expect(got).toEqual({ ...m, term: 4 });
  expect(got.entries[0]!.data.buffer).toBe(bytes.buffer);
});

test("truncated or malformed input throws", () => {
  const m = makeMessage({ type: MessageType.MsgApp, to: 2n ** 63n, from: 1n, entries: [{ term: 1, index: 1, type: EntryType.EntryNormal, data: new Uint8Array(10) }] });
  const bytes = encodeMessage(m);
  // Inside the 10-byte varint of `to` (after the type field and its tag), inside the entry.
  expect(() => decodeMessage(bytes.subarray(0, 5))).toThrow("truncated varint");
  expect(() => decodeMessage(bytes.subarray(0, bytes.length - 1))).toThrow("truncated entry");
  expect(() => decodeMessage(Uint8Array.from([(1 << 3) | 3]))).toThrow("unsupported wire type 3");
  expect(() => decodeMessage(Uint8Array.from([4 << 3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]))).toThrow(RangeError);
});
