/**
 * The bytes of the Raft message stream (etcdts.v1.Peer/Stream, proto/etcdts/peer.proto), written
 * and read by hand on both ends instead of through Connect's client and router: Connect's
 * streaming protocol over HTTP/2 (connectrpc.com/docs/protocol, "Streaming RPCs"): `POST
 * /etcdts.v1.Peer/Stream`, `content-type: application/connect+proto`, every message in an
 * envelope (flags byte, 4-byte big-endian length, payload), the response ending with an
 * end-of-stream envelope (flags 0x02, JSON with the error, if any). A member that still speaks
 * through Connect's client or router reads and writes the same bytes.
 *
 * Requests carry MessageBatch (`repeated bytes messages = 1`, each a raftpb.Message of
 * server/raft/message-codec.ts); the response carries one empty StreamAccepted, then only the end.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeMessageBatch } from "../raft/message-codec.ts";
import type { Message } from "../raft/types.ts";
import { joinChunks } from "../http/join-chunks.ts";

/** Path of the stream method. */
export const STREAM_PATH = "/etcdts.v1.Peer/Stream";
/** Content type of the stream in both directions (binary protobuf). */
export const STREAM_CONTENT_TYPE = "application/connect+proto";
/** Value of the `connect-protocol-version` request header. */
export const STREAM_PROTOCOL_VERSION = "1";
/** Envelope flag of a compressed message (never written by us; refused when read). */
export const COMPRESSED_FLAG = 0x01;
/** Envelope flag of the response's last message (Connect's EndStreamResponse, JSON). */
export const END_STREAM_FLAG = 0x02;
/** The empty StreamAccepted message in its envelope. */
export const ACCEPTED_ENVELOPE = new Uint8Array(5);

/** An envelope header for `length` bytes of payload with `flags`, written at `buf[pos]`. */
function writeEnvelopeHeader(buf: Uint8Array, pos: number, flags: number, length: number): void {
  buf[pos] = flags;
  new DataView(buf.buffer, buf.byteOffset + pos + 1, 4).setUint32(0, length);
}

/** One envelope holding the MessageBatch of `msgs`, ready for one write. */
export function batchEnvelope(msgs: readonly Message[]): Uint8Array {
  const out = encodeMessageBatch(msgs, 5);
  writeEnvelopeHeader(out, 0, 0, out.length - 5);
  return out;
}

/** A Connect error code as the protocol spells it: `FailedPrecondition` → `failed_precondition`. */
function codeText(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i === 0 ? "" : "_") + c.toLowerCase());
}

/** The end-of-stream envelope: `{}`, or `{"error":{"code":...,"message":...}}` for `error`. */
export function endStreamEnvelope(error?: ConnectError): Uint8Array {
  const json = error ? JSON.stringify({ error: { code: codeText(error.code), message: error.rawMessage } }) : "{}";
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(5 + body.length);
  writeEnvelopeHeader(out, 0, END_STREAM_FLAG, body.length);
  out.set(body, 5);
  return out;
}

/**
 * The error an end-of-stream envelope carries (a ConnectError with the code and message sent and
 * `metadata` as its metadata), or undefined for a clean end; Unknown `invalid end stream` when
 * the JSON cannot be read.
 */
export function endStreamError(data: Uint8Array, metadata: Headers): ConnectError | undefined {
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(new TextDecoder().decode(data)) as typeof parsed;
  } catch {
    return new ConnectError("invalid end stream", Code.Unknown, metadata);
  }
  if (parsed?.error === undefined) return undefined;
  const { code, message } = parsed.error;
  const known = Object.values(Code).find((c): c is Code => typeof c === "number" && codeText(c) === code);
  return new ConnectError(typeof message === "string" ? message : "", known ?? Code.Unknown, metadata);
}

/** One envelope read off the stream; `data` is a view of the bytes received. */
export interface Envelope {
  flags: number;
  data: Uint8Array;
}

/**
 * Splits a body into envelopes as its chunks arrive, synchronously. Throws ConnectError
 * ResourceExhausted `message size <n> is larger than configured readMaxBytes <limit>` (Connect's
 * text) as soon as a header announces more than `limitBytes`. An envelope split over chunks is
 * gathered in a list and joined once when its last byte arrives (a 1 MiB entry comes in 16 KiB
 * DATA frames: joining at every chunk copied it 64 times).
 */
export class EnvelopeReader {
  /** Bytes of an unfinished envelope (copies, so the chunks' memory is not kept). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes the pending envelope needs in all, once its header is complete (0 before). */
  private need = 0;

  constructor(private readonly limitBytes: number) {}

  /** The envelopes completed by `chunk`. */
  push(chunk: Uint8Array): Envelope[] {
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk.slice());
      this.pendingBytes += chunk.length;
      const need = this.pendingNeed();
      if (need === undefined || this.pendingBytes < need) return [];
      buf = joinChunks(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.need = 0;
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const out: Envelope[] = [];
    let pos = 0;
    while (buf.length - pos >= 5) {
      const length = this.checkedLength(view.getUint32(pos + 1));
      if (buf.length - pos < 5 + length) break;
      out.push({ flags: buf[pos]!, data: buf.subarray(pos + 5, pos + 5 + length) });
      pos += 5 + length;
    }
    if (pos < buf.length) {
      this.pending = [buf.slice(pos)]; // a copy: the chunk's memory is not kept
      this.pendingBytes = buf.length - pos;
      this.pendingNeed(); // an oversized envelope is refused at its header, not at its end
    }
    return out;
  }

  /** Bytes the pending envelope needs in all (header included), or undefined before its header is complete. */
  private pendingNeed(): number | undefined {
    if (this.need > 0) return this.need;
    if (this.pendingBytes < 5) return undefined;
    if (this.pending[0]!.length < 5) this.pending = [joinChunks(this.pending, this.pendingBytes)];
    const head = this.pending[0]!;
    this.need = 5 + this.checkedLength(new DataView(head.buffer, head.byteOffset, 5).getUint32(1));
    return this.need;
  }

  private checkedLength(length: number): number {
    if (length > this.limitBytes) {
      throw new ConnectError(`message size ${length} is larger than configured readMaxBytes ${this.limitBytes}`, Code.ResourceExhausted);
    }
    return length;
  }

  /** Whether the bytes so far stopped inside an envelope. */
  get midEnvelope(): boolean {
    return this.pendingBytes > 0;
  }
}
