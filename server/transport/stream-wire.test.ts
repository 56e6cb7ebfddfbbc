import { describe, expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { MessageBatchSchema } from "../../proto/gen/etcdts/peer_pb.ts";
import { decodeMessageBatch, encodeMessage } from "../raft/message-codec.ts";
import { MessageType, makeMessage } from "../raft/types.ts";
import { EnvelopeReader, END_STREAM_FLAG, batchEnvelope, endStreamEnvelope, endStreamError } from "./stream-wire.ts";

const msgs = [
  makeMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 0x8e9e05c52164694dn, term: 3, commit: 7 }),
  makeMessage({
    type: MessageType.MsgApp,
    to: 2n,
    from: 1n,
    term: 3,
    index: 9,
    entries: Array.from({ length: 3 }, (_, i) => ({ term: 3, index: 10 + i, type: 0, data: new Uint8Array(200 + i).fill(i) })),
  }),
  makeMessage({
    type: MessageType.MsgSnap,
    to: 2n,
    from: 1n,
    term: 4,
    reject: true,
    context: new Uint8Array([1, 2]),
    snapshot: { data: new Uint8Array(300).fill(7), metadata: { confState: { voters: [1n, 2n], learners: [] }, index: 40, term: 4 } },
  }),
];

describe("batch envelope", () => {
  test("holds the bytes protobuf-es writes for MessageBatch, behind a 5-byte header", () => {
    const env = batchEnvelope(msgs);
    const expected = toBinary(MessageBatchSchema, create(MessageBatchSchema, { messages: msgs.map(encodeMessage) }));
    expect(env[0]).toBe(0);
    expect(new DataView(env.buffer).getUint32(1)).toBe(expected.length);
    expect(env.subarray(5)).toEqual(expected);
  });

  test("decodes back to the messages, also as protobuf-es reads it", () => {
    const payload = batchEnvelope(msgs).subarray(5);
    expect(decodeMessageBatch(payload)).toEqual(msgs);
    expect(fromBinary(MessageBatchSchema, payload).messages).toEqual(msgs.map(encodeMessage));
    expect(decodeMessageBatch(new Uint8Array(0))).toEqual([]);
  });

  test("a malformed batch throws", () => {
    expect(() => decodeMessageBatch(new Uint8Array([0x0a, 0x05, 0x08]))).toThrow("raftpb.Message");
  });
});

describe("EnvelopeReader", () => {
  test("envelopes split at every byte boundary come out whole and in order", () => {
    const bytes = new Uint8Array([...batchEnvelope(msgs), ...batchEnvelope(msgs.slice(0, 1)), ...endStreamEnvelope()]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = new EnvelopeReader(1 << 20);
      const got = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))];
      expect(got.map((e) => e.flags)).toEqual([0, 0, END_STREAM_FLAG]);
      expect(decodeMessageBatch(got[0]!.data)).toEqual(msgs);
      expect(r.midEnvelope).toBe(false);
    }
    const r = new EnvelopeReader(1 << 20);
    expect(r.push(bytes.subarray(0, 7))).toEqual([]);
    expect(r.midEnvelope).toBe(true);
  });

  test("envelopes fed in small chunks (the header split too) come out whole, and the chunks may be reused", () => {
    const big = new Uint8Array(70_000).map((_, i) => i % 251);
    const bytes = new Uint8Array([...batchEnvelope(msgs), 0, 0, 1, 0x11, 0x70, ...big, ...endStreamEnvelope()]);
    for (const size of [1, 3, 16_384]) {
      const r = new EnvelopeReader(1 << 20);
      const got: { flags: number; data: Uint8Array }[] = [];
      const scratch = new Uint8Array(size);
      for (let at = 0; at < bytes.length; at += size) {
        const part = bytes.subarray(at, at + size);
        scratch.set(part);
        for (const e of r.push(scratch.subarray(0, part.length))) got.push({ flags: e.flags, data: e.data.slice() });
        scratch.fill(0xee); // a transport may reuse its chunk once push returned
      }
      expect(got.map((e) => e.flags)).toEqual([0, 0, END_STREAM_FLAG]);
      expect(decodeMessageBatch(got[0]!.data)).toEqual(msgs);
      expect(got[1]!.data).toEqual(big);
      expect(r.midEnvelope).toBe(false);
    }
  });

  test("an envelope announcing more than the limit is refused before its payload arrives", () => {
    const r = new EnvelopeReader(100);
    expect(() => r.push(new Uint8Array([0, 0, 0, 0, 101]))).toThrow("message size 101 is larger than configured readMaxBytes 100");
    const split = new EnvelopeReader(100);
    expect(split.push(new Uint8Array([0, 0, 0]))).toEqual([]);
    expect(() => split.push(new Uint8Array([0, 101, 1]))).toThrow("message size 101 is larger than configured readMaxBytes 100");
  });
});

describe("end of stream", () => {
  test("a refusal travels as Connect's JSON and comes back with its code, message and metadata", () => {
    const env = endStreamEnvelope(new ConnectError("removed member", Code.FailedPrecondition));
    expect(env[0]).toBe(END_STREAM_FLAG);
    expect(new TextDecoder().decode(env.subarray(5))).toBe('{"error":{"code":"failed_precondition","message":"removed member"}}');
    const err = endStreamError(env.subarray(5), new Headers({ "x-etcd-cluster-id": "1" }))!;
    expect([err.code, err.rawMessage, err.metadata.get("x-etcd-cluster-id")]).toEqual([Code.FailedPrecondition, "removed member", "1"]);
  });

  test("a clean end carries no error; unreadable JSON is Unknown", () => {
    expect(endStreamError(endStreamEnvelope().subarray(5), new Headers())).toBeUndefined();
    expect(endStreamError(new TextEncoder().encode("{"), new Headers())?.rawMessage).toBe("invalid end stream");
  });
});
