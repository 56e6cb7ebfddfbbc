/**
 * The protobuf encoding of the ResponseHeader of streamed answers, cached: every watch event
 * and keep-alive answer carries one, and in a burst they all share the same cluster, member,
 * revision and term, so the bytes are encoded once per change of any of them. Also the varint
 * helpers the hand-written stream encoders share (protobuf encoding: protobuf.dev/programming-guides/encoding).
 */
import { toBinary } from "@bufbuild/protobuf";
import { ResponseHeaderSchema, type ResponseHeader } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/** Encodes ResponseHeaders, reusing the last bytes while the fields stay the same. */
export class ResponseHeaderBytes {
  private last: ResponseHeader | undefined;
  private revision = -1n;
  private bytes = new Uint8Array(0);

  /** `toBinary(ResponseHeaderSchema, h)`, from the cache when `h` equals the last header. */
  encode(h: ResponseHeader): Uint8Array {
    const k = this.last;
    if (k !== h && (!k || this.revision !== h.revision || k.clusterId !== h.clusterId || k.memberId !== h.memberId || k.raftTerm !== h.raftTerm)) {
      this.bytes = toBinary(ResponseHeaderSchema, h);
      this.revision = h.revision;
    }
    this.last = h;
    return this.bytes;
  }
}

/** Bytes of a non-negative number or bigint as a protobuf varint (one helper for every hand encoder). */
export { varintSize } from "../raft/message-size.ts";

/** Writes `n` (0 ≤ n < 2^53) as a varint at `pos`; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}
