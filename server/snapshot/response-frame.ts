/**
 * One `etcdserverpb.SnapshotResponse` as a gRPC length-prefixed message, written by hand so a
 * snapshot's chunks can be cut straight into the bytes that go on the wire (./chunk-sink.ts)
 * and framed once (server/api/snapshot-grpc.ts).
 *
 * Layout: the gRPC prefix (flag byte 0, 4-byte big-endian message length; grpc PROTOCOL-HTTP2.md
 * "Length-Prefixed-Message"), then the message: remaining_bytes = 2 (uint64 varint), blob = 3
 * (bytes), each left out when zero or empty (proto3 defaults), no header (etcd 3.4's
 * v3rpc/maintenance.go sends none). Encoding: protobuf.dev/programming-guides/encoding.
 */
import { varintSize, writeVarint } from "../api/header-wire.ts";

/** Bytes of the gRPC prefix. */
export const GRPC_PREFIX_BYTES = 5;

/** Bytes before the blob in a frame (prefix, remaining_bytes field, blob tag and length). `remainingBytes` < 2^53. */
export function frameHeadSize(remainingBytes: number, blobBytes: number): number {
  return GRPC_PREFIX_BYTES + (remainingBytes > 0 ? 1 + varintSize(remainingBytes) : 0) + (blobBytes > 0 ? 1 + varintSize(blobBytes) : 0);
}

/**
 * Writes the head of a frame whose blob is `blobBytes` long ({@link frameHeadSize} bytes) at
 * `pos` of `out`; returns the position where the blob goes.
 */
export function writeFrameHead(out: Uint8Array, pos: number, remainingBytes: number, blobBytes: number): number {
  const length = frameHeadSize(remainingBytes, blobBytes) - GRPC_PREFIX_BYTES + blobBytes;
  out[pos] = 0;
  out[pos + 1] = length >>> 24;
  out[pos + 2] = (length >>> 16) & 0xff;
  out[pos + 3] = (length >>> 8) & 0xff;
  out[pos + 4] = length & 0xff;
  pos += GRPC_PREFIX_BYTES;
  if (remainingBytes > 0) {
    out[pos++] = (2 << 3) | 0;
    pos = writeVarint(out, pos, remainingBytes);
  }
  if (blobBytes > 0) {
    out[pos++] = (3 << 3) | 2;
    pos = writeVarint(out, pos, blobBytes);
  }
  return pos;
}

/** Writes the whole frame of (`remainingBytes`, `blob`) at `pos` of `out`; returns the position after it. */
export function writeFrame(out: Uint8Array, pos: number, remainingBytes: number, blob: Uint8Array): number {
  pos = writeFrameHead(out, pos, remainingBytes, blob.length);
  out.set(blob, pos);
  return pos + blob.length;
}
