/**
 * Hand-written protobuf encoding of mvccpb.KeyValue (key = 1, create_revision = 2,
 * mod_revision = 3, version = 4, value = 5, lease = 6; etcd's mvcc/mvccpb/kv.proto), shared by
 * the lean Range answer (server/api/range-wire.ts) and the snapshot's `key` bucket
 * (server/snapshot/write-etcd-db.ts). The bytes are exactly `toBinary(KeyValueSchema, kv)`'s for
 * a message without unknown fields: fields in number order, proto3 defaults left out, int64 as
 * two's-complement varints, as gogo-protobuf's generated Marshal (kv.pb.go) writes them.
 * Encoding: protobuf.dev/programming-guides/encoding.
 */
import type { KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { optionalBytesSize, optionalVarintSize, type ProtoWriter } from "../raft/proto-writer.ts";

/** The KeyValue fields that are encoded (a KeyValue message, or a plain object of the same shape). */
export type KeyValueFields = Pick<KeyValue, "key" | "createRevision" | "modRevision" | "version" | "value" | "lease">;

/**
 * Bytes of a KeyValue from its key and value lengths and its numbers, without the bytes
 * themselves (a snapshot's layout pass reads only lengths from the backend).
 */
export function keyValueSizeOf(keyBytes: number, createRevision: bigint, modRevision: bigint, version: bigint, valueBytes: number, lease: bigint): number {
  return (
    optionalBytesSize(keyBytes) +
    optionalVarintSize(createRevision) +
    optionalVarintSize(modRevision) +
    optionalVarintSize(version) +
    optionalBytesSize(valueBytes) +
    optionalVarintSize(lease)
  );
}

/** Bytes of `toBinary(KeyValueSchema, kv)`. */
export function keyValueSize(kv: KeyValueFields): number {
  return keyValueSizeOf(kv.key.length, kv.createRevision, kv.modRevision, kv.version, kv.value.length, kv.lease);
}

/** Writes `kv`'s encoding ({@link keyValueSize} bytes) at `w.pos`. */
export function writeKeyValue(w: ProtoWriter, kv: KeyValueFields): void {
  w.bytesField((1 << 3) | 2, kv.key);
  w.varintField((2 << 3) | 0, kv.createRevision);
  w.varintField((3 << 3) | 0, kv.modRevision);
  w.varintField((4 << 3) | 0, kv.version);
  w.bytesField((5 << 3) | 2, kv.value);
  w.varintField((6 << 3) | 0, kv.lease);
}
