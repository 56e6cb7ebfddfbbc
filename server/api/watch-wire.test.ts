import { describe, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { WatchResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType, EventSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { encodeWatchResponse, WatchFrameBatch } from "./watch-wire.ts";

const ev = (key: string, rev: bigint, type = Event_EventType.PUT) =>
  create(EventSchema, { type, kv: { key: new TextEncoder().encode(key), value: new Uint8Array(300).fill(7), modRevision: rev, createRevision: 2n, version: 3n } });
const header = (revision: bigint) => ({ clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision, raftTerm: 2n });

describe("watch response encoding", () => {
  test("encodes exactly as toBinary, with cached events and headers reused across responses", () => {
    const shared = [ev("a", 5n), ev("b", 5n, Event_EventType.DELETE)];
    const cases = [
      create(WatchResponseSchema, { header: header(5n), watchId: 0n, events: shared }),
      create(WatchResponseSchema, { header: header(5n), watchId: 300n, events: shared }),
      create(WatchResponseSchema, { header: header(6n), watchId: -1n }),
      create(WatchResponseSchema, { header: header(6n), watchId: 1n << 40n, events: shared }),
      create(WatchResponseSchema, { header: header(7n), watchId: 5n, events: Array.from({ length: 3 }, (_, i) => ev(`k${i}`, 7n)) }),
      create(WatchResponseSchema, { header: header(6n), watchId: 7n, events: [{ ...ev("c", 6n), prevKv: ev("c", 4n).kv }] }),
      create(WatchResponseSchema, { header: header(6n), watchId: 1n, created: true }),
      create(WatchResponseSchema, { header: header(0n), watchId: 2n, canceled: true, compactRevision: 4n }),
      create(WatchResponseSchema, { header: header(6n), watchId: -1n, created: true, canceled: true, cancelReason: "mvcc: watcher range is empty" }),
    ];
    for (const r of cases) expect(encodeWatchResponse(r)).toEqual(toBinary(WatchResponseSchema, r));
    const batch = new WatchFrameBatch();
    for (const r of cases) batch.add(r);
    expect(batch.count).toBe(cases.length);
    const frames = batch.take();
    expect(batch.count).toBe(0);
    let pos = 0;
    for (const r of cases) {
      const m = toBinary(WatchResponseSchema, r);
      expect([...frames.subarray(pos, pos + 5)]).toEqual([0, m.length >>> 24, (m.length >>> 16) & 255, (m.length >>> 8) & 255, m.length & 255]);
      expect(new Uint8Array(frames.subarray(pos + 5, pos + 5 + m.length))).toEqual(m);
      pos += 5 + m.length;
    }
    expect(pos).toBe(frames.length);
  });
});
