/**
 * The streamed snapshot's two passes (./chunk-sink.ts, ./write-etcd-db.ts `layoutOnly`): the
 * chunks cut from the build pass, after the layout pass's head pages, are byte for byte the file
 * a plain build writes, with its SHA-256, and each one's frame decodes as its SnapshotResponse;
 * released buffers are reused; a state whose layout changed between the passes is refused.
 */
import { expect, test } from "bun:test";
import { fromBinary } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
import { SnapshotResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { PageSink } from "./bbolt/writer.ts";
import { ChunkSink, HeadPagesSink, type SnapshotChunk } from "./chunk-sink.ts";
import type { EtcdState, RevisionRecord } from "./etcd-state.ts";
import { writeEtcdDb } from "./write-etcd-db.ts";

const enc = new TextEncoder();
const PAGE = 4096;

/** `n` revisions: small and overflow-sized values, tombstones, leases, negative lease IDs. */
function state(n: number, valueBytes: (i: number) => number): EtcdState {
  const revisions = (): RevisionRecord[] =>
    Array.from({ length: n }, (_, i) => {
      const key = enc.encode(`key/${i % 97}`);
      if (i % 11 === 5) return { main: i + 2, sub: 0, tombstone: true, kv: { key, value: new Uint8Array(0), createRevision: 0n, modRevision: 0n, version: 0n, lease: 0n } };
      const value = new Uint8Array(valueBytes(i)).fill(i & 0xff);
      return { main: i + 2, sub: i % 3, tombstone: false, kv: { key, value, createRevision: BigInt(i + 1), modRevision: BigInt(i + 2), version: BigInt(1 + (i % 5)), lease: i % 7 === 0 ? -5n : BigInt(i % 4) } };
    });
  return {
    revisions,
    leases: () => [{ id: 7n, ttl: 60n, remainingTtl: 0n }],
    users: () => [],
    roles: () => [],
    members: () => [{ id: 1n, name: "m1", peerURLs: ["http://127.0.0.1:2380"], clientURLs: [], isLearner: false }],
    removedMembers: () => [],
    alarms: () => [],
    consistentIndex: BigInt(n),
    compactRevision: 0,
    finishedCompactRevision: 0,
    authEnabled: false,
    authRevision: 0n,
    clusterVersion: "3.4.0",
  };
}

/** The file a plain build writes (pages at their offsets). */
function builtFile(s: EtcdState): Uint8Array {
  const pages = new Map<number, Uint8Array>();
  const sink: PageSink = { writePages: (pgid, bytes) => pages.set(pgid, bytes.slice()) };
  const steps = writeEtcdDb(s, sink);
  let r = steps.next();
  while (!r.done) r = steps.next();
  const out = new Uint8Array(r.value * PAGE);
  for (const [pgid, bytes] of pages) out.set(bytes, pgid * PAGE);
  return out;
}

/**
 * Layout pass, then build pass into 32 KiB chunks; returns copies of the blobs, the messages
 * decoded from their frames, and the hash. `release`: each chunk is released once copied, so
 * later chunks reuse its buffer.
 */
function streamed(layoutState: EtcdState, buildState: EtcdState, release = false): { chunks: Uint8Array[]; frames: { remainingBytes: bigint; blob: Uint8Array }[]; hash: Uint8Array; buffers: number; framesPerBuffer: number } {
  const head = new HeadPagesSink(PAGE);
  const layout = writeEtcdDb(layoutState, head, { layoutOnly: true });
  let r = layout.next();
  while (!r.done) r = layout.next();
  const sink = new ChunkSink(head, r.value * PAGE, 32 * 1024);
  const chunks: Uint8Array[] = [];
  const frames: { remainingBytes: bigint; blob: Uint8Array }[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const collect = (cs: SnapshotChunk[]) => {
    for (const c of cs) {
      chunks.push(c.blob.slice());
      const f = c.frame!;
      const length = new DataView(f.buffer, f.byteOffset).getUint32(1);
      expect(f[0]).toBe(0);
      expect(length).toBe(f.length - 5);
      const m = fromBinary(SnapshotResponseSchema, f.subarray(5));
      expect(m.remainingBytes).toBe(c.remainingBytes);
      frames.push({ remainingBytes: m.remainingBytes, blob: m.blob.slice() });
      buffers.add(f.buffer);
      if (release) c.release!();
    }
  };
  const build = writeEtcdDb(buildState, sink);
  while (!build.next().done) collect(sink.take());
  collect(sink.take());
  return { chunks, frames, hash: sink.digest(), buffers: buffers.size, framesPerBuffer: sink.framesPerBuffer };
}

for (const [name, n, size] of [
  ["empty key bucket", 0, () => 0],
  ["a key bucket small enough to be inline", 2, () => 10],
  ["small values over many leaves and branches", 3000, (i: number) => i % 40],
  ["overflow values (64 KiB and more)", 60, (i: number) => 65536 + i * 100],
] as const) {
  test(`the chunks are the built file: ${name}`, () => {
    const s = state(n, size);
    const file = builtFile(s);
    for (const release of [false, true]) {
      const { chunks, frames, hash } = streamed(s, s, release);
      expect(chunks.slice(0, -1).every((c) => c.length === 32 * 1024)).toBe(true);
      expect(Buffer.compare(Buffer.concat(chunks), file)).toBe(0);
      expect(Buffer.compare(Buffer.concat(frames.map((f) => f.blob)), file)).toBe(0);
      let left = file.length;
      for (const f of frames) expect(f.remainingBytes).toBe(BigInt((left -= f.blob.length)));
      expect(Buffer.from(hash).equals(createHash("sha256").update(file).digest())).toBe(true);
    }
  });
}

test("released chunks' buffers are reused; chunks kept are never overwritten", () => {
  const s = state(60, (i) => 65536 + i * 100);
  const kept = streamed(s, s, false);
  const reused = streamed(s, s, true);
  expect(kept.framesPerBuffer).toBe(7); // 256 KiB buffers of 32 KiB frames
  expect(kept.chunks.length).toBeGreaterThan(4 * kept.framesPerBuffer);
  expect(kept.buffers).toBe(Math.ceil(kept.chunks.length / kept.framesPerBuffer));
  // Chunks are taken (and released) once per build step of about 1 MiB: a step's buffers, plus one.
  expect(reused.buffers).toBeLessThan(kept.buffers / 2);
});

test("a state whose layout changed between the passes is refused", () => {
  // Larger values: more pages than announced. Fewer revisions: fewer pages and other metas.
  expect(() => streamed(state(50, () => 100), state(50, () => 3000))).toThrow(/snapshot: /);
  expect(() => streamed(state(50, () => 100), state(10, () => 100))).toThrow(/snapshot: /);
});

test("the layout pass sizes a state without revisionSizes() from its revisions", () => {
  const s = state(30, (i) => i * 300);
  const head = new HeadPagesSink(PAGE);
  const layout = writeEtcdDb(s, head, { layoutOnly: true });
  let r = layout.next();
  while (!r.done) r = layout.next();
  expect(r.value * PAGE).toBe(builtFile(s).length);
});
