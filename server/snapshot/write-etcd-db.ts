/**
 * Writes an {@link EtcdState} as etcd 3.4's bbolt backend file (./etcd-schema.ts): the file
 * `etcdctl snapshot save` stores before it appends the SHA-256. Pages go to the sink as they
 * fill (./bbolt/writer.ts), so memory stays bounded; only the small buckets (members,
 * alarms) are sorted in memory. Runs under Bun and Deno.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { LeaseSchema } from "../../proto/gen/leasepb/lease_pb.ts";
import { keyValueSize, writeKeyValue } from "../mvcc/key-value-wire.ts";
import { ProtoWriter } from "../raft/proto-writer.ts";
import { BboltWriter, type BucketWriter, type PageSink } from "./bbolt/writer.ts";
import {
  AUTH_ENABLED,
  AUTH_REVISION,
  CLUSTER_VERSION,
  encodeMemberJson,
  META_CONSISTENT_INDEX,
  META_FINISHED_COMPACT,
  META_SCHEDULED_COMPACT,
  memberKey,
  revisionKey,
  u64be,
} from "./etcd-schema.ts";
import type { EtcdState } from "./etcd-state.ts";

const enc = new TextEncoder();

/** Entries written between two yields of {@link writeEtcdDb}, at most. */
export const ENTRIES_PER_STEP = 2000;
/** Value bytes written between two yields, at most (about; one large value may pass it). */
export const BYTES_PER_STEP = 1024 * 1024;

/** The value filler of a layout pass (values are never written). */
const noFill = () => {};

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Puts sorted-by-key pairs (small buckets). */
function putSorted(b: BucketWriter, pairs: [Uint8Array, Uint8Array][]): void {
  pairs.sort((x, y) => compareBytes(x[0], y[0]));
  for (const [k, v] of pairs) b.put(k, v);
}

/** The `key` bucket's rows of a layout pass: sizes only, from revisionSizes() when the state has it. */
function* revisionSizes(state: EtcdState): Iterable<{ main: number; sub: number; tombstone: boolean; size: number }> {
  if (state.revisionSizes) return yield* state.revisionSizes();
  for (const r of state.revisions()) yield { main: r.main, sub: r.sub, tombstone: r.tombstone, size: keyValueSize(r.kv) };
}

/**
 * Writes `state` to `sink` as a bbolt file of 4096-byte pages. A generator: it yields after
 * every {@link ENTRIES_PER_STEP} entries or {@link BYTES_PER_STEP} of values so a caller can let
 * other work run, and returns the page count (the file is `pages * 4096` bytes). With
 * `opts.layoutOnly` it reads only sizes (EtcdState.revisionSizes) and gives the sink just the
 * freelist and meta pages, the same ones a full run over the same state writes (see
 * BboltWriter), so a reader can stream the file as it is built. Throws Error if the state's
 * iterables break their order (bbolt: keys must be added in ascending order).
 */
export function* writeEtcdDb(state: EtcdState, sink: PageSink, opts: { layoutOnly?: boolean } = {}): Generator<void, number> {
  const w = new BboltWriter(sink, { layoutOnly: opts.layoutOnly });
  let n = 0;
  let bytes = 0;
  /** Counts one entry of `size` bytes; true when a step is full (then the caller yields). */
  const step = (size = 0) => {
    bytes += size;
    if (++n < ENTRIES_PER_STEP && bytes < BYTES_PER_STEP) return false;
    n = bytes = 0;
    return true;
  };

  putSorted(w.bucket("alarm"), state.alarms().map((a) => [a, new Uint8Array(0)]));
  w.endBucket();

  const auth = w.bucket("auth");
  auth.put(enc.encode(AUTH_ENABLED), Uint8Array.of(state.authEnabled ? 1 : 0));
  auth.put(enc.encode(AUTH_REVISION), u64be(state.authRevision));
  w.endBucket();

  for (const [bucket, rows] of [["authRoles", state.roles()], ["authUsers", state.users()]] as const) {
    const b = w.bucket(bucket);
    for (const r of rows) {
      b.put(r.name, r.data);
      if (step()) yield;
    }
    w.endBucket();
  }

  const cluster = w.bucket("cluster");
  if (state.clusterVersion !== "") cluster.put(enc.encode(CLUSTER_VERSION), enc.encode(state.clusterVersion));
  w.endBucket();

  const key = w.bucket("key");
  if (opts.layoutOnly) {
    for (const r of revisionSizes(state)) {
      key.putWith(revisionKey(r.main, r.sub, r.tombstone), r.size, noFill);
      if (step(r.size)) yield;
    }
  } else {
    for (const r of state.revisions()) {
      // The KeyValue is encoded straight into the page: its value is copied once.
      const kv = r.kv;
      const size = keyValueSize(kv);
      key.putWith(revisionKey(r.main, r.sub, r.tombstone), size, (page, at) => writeKeyValue(new ProtoWriter(page, at), kv));
      if (step(size)) yield;
    }
  }
  w.endBucket();

  const lease = w.bucket("lease");
  for (const l of state.leases()) {
    lease.put(u64be(l.id), toBinary(LeaseSchema, create(LeaseSchema, { ID: l.id, TTL: l.ttl, RemainingTTL: l.remainingTtl })));
    if (step()) yield;
  }
  w.endBucket();

  putSorted(
    w.bucket("members"),
    state.members().map((m) => [enc.encode(memberKey(m.id)), enc.encode(encodeMemberJson(m))]),
  );
  w.endBucket();
  putSorted(
    w.bucket("members_removed"),
    state.removedMembers().map((id) => [enc.encode(memberKey(id)), enc.encode("removed")]),
  );
  w.endBucket();

  const meta = w.bucket("meta");
  meta.put(enc.encode(META_CONSISTENT_INDEX), u64be(state.consistentIndex));
  if (state.finishedCompactRevision > 0) meta.put(enc.encode(META_FINISHED_COMPACT), revisionKey(state.finishedCompactRevision, 0));
  if (state.compactRevision > 0) meta.put(enc.encode(META_SCHEDULED_COMPACT), revisionKey(state.compactRevision, 0));
  w.endBucket();

  return w.finish();
}
