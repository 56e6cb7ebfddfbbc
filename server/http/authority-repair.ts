/**
 * Lets HTTP/2 clients that send a malformed `:authority` reach our HTTP/2 server.
 *
 * grpc-go (in etcd 3.4's clientv3) dials single endpoints by their full URL, so requests such
 * as `etcdctl --endpoints=http://127.0.0.1:2379 endpoint status` carry
 * `:authority: http://127.0.0.1:2379`. Go's server accepts that; Bun's HTTP/2 server resets
 * the stream with PROTOCOL_ERROR before any handler runs (a '/' is not allowed in an
 * authority). This stream sits between the socket and the HTTP/2 server: it decodes the
 * client's first header block and, only if that block has a malformed `:authority`,
 * re-encodes every header block of the connection with the authority repaired
 * (`http://host:port` → `host:port`). Other connections are passed through unchanged.
 *
 * Frames: RFC 9113 §4.1, §6.2 (HEADERS), §6.10 (CONTINUATION). Re-encoded blocks use literal
 * fields without indexing, so the server's HPACK table stays empty and in step.
 */
import type * as net from "node:net";
import { SocketStandIn } from "./socket-stand-in.ts";
import { encodeWithoutIndexing, HpackDecoder, HpackError, type HeaderField } from "./hpack.ts";
import {
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PRIORITY,
  encodeFrame,
  FRAME_HEADER_LENGTH,
  headersFramePayload,
  MAX_FRAME_PAYLOAD,
  PREFACE_LENGTH,
  TYPE_CONTINUATION,
  TYPE_HEADERS,
  TYPE_SETTINGS,
} from "./h2-frames.ts";

/** True when `value` has characters RFC 3986 does not allow in an authority. */
export function authorityNeedsRepair(value: string): boolean {
  return !/^[A-Za-z0-9\-._~!$&'()*+,;=:@%[\]]*$/.test(value);
}

/** `http://host:port/...` → `host:port`; anything still malformed becomes `localhost`. */
export function repairAuthority(value: string): string {
  const v = value.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, "").replace(/^\/+/, "").split("/")[0]!;
  return v === "" || authorityNeedsRepair(v) ? "localhost" : v;
}


/** A header block being collected from HEADERS + CONTINUATION frames. */
interface OpenBlock {
  streamId: number;
  endStream: boolean;
  priority: Buffer | undefined;
  fragments: Buffer[];
  /** The frames as received, for forwarding unchanged. */
  frames: Buffer[];
}

type Mode = "undecided" | "passthrough" | "repair";

/**
 * A Duplex over `socket` for the HTTP/2 server (`h2.emit("connection", stream)`): reads are
 * the client's bytes (with header blocks repaired where needed), writes go to the socket.
 * The socket must still hold the connection preface (sniffing unshifted it).
 */
export class AuthorityRepairStream extends SocketStandIn {
  private mode: Mode = "undecided";
  private buffered: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private block: OpenBlock | undefined;
  private readonly decoder = new HpackDecoder();

  /**
   * `initial`: bytes already read from `socket` (server/http/h2-handover.ts), starting with the
   * connection preface. `dropSettingsAck`: the next SETTINGS acknowledgement from the client
   * answers a SETTINGS frame the HTTP/2 server never sent (h2-handover's), so it is dropped.
   */
  constructor(
    socket: net.Socket,
    initial?: Buffer,
    private dropSettingsAck = false,
  ) {
    super(socket);
    this.start(initial);
  }

  /** True once this connection's header blocks are being rewritten. */
  get repairing(): boolean {
    return this.mode === "repair";
  }

  protected onData(chunk: Buffer): void {
    if (this.mode === "passthrough" && !this.dropSettingsAck) return this.forward(chunk);
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    try {
      this.processFrames();
    } catch (e) {
      this.destroy(e as Error);
    }
  }

  private processFrames(): void {
    if (!this.prefaceSeen) {
      if (this.buffered.length < PREFACE_LENGTH) return;
      this.forward(this.buffered.subarray(0, PREFACE_LENGTH));
      this.buffered = this.buffered.subarray(PREFACE_LENGTH);
      this.prefaceSeen = true;
    }
    while ((this.mode !== "passthrough" || this.dropSettingsAck) && this.buffered.length >= FRAME_HEADER_LENGTH) {
      const length = this.buffered.readUIntBE(0, 3);
      if (length > MAX_FRAME_PAYLOAD && this.mode === "undecided") {
        this.mode = "passthrough"; // oversized frame: the server's own checks answer it
        for (const f of this.block?.frames ?? []) this.forward(f);
        this.block = undefined;
        continue;
      }
      if (this.buffered.length < FRAME_HEADER_LENGTH + length) return;
      const frame = this.buffered.subarray(0, FRAME_HEADER_LENGTH + length);
      this.buffered = this.buffered.subarray(FRAME_HEADER_LENGTH + length);
      if (this.dropSettingsAck && frame[3] === TYPE_SETTINGS && (frame[4]! & FLAG_ACK) !== 0) {
        this.dropSettingsAck = false;
        continue;
      }
      if (this.mode === "passthrough") this.forward(frame);
      else this.onFrame(frame);
    }
    if (this.mode === "passthrough" && !this.dropSettingsAck) {
      const rest = this.buffered;
      this.buffered = Buffer.alloc(0);
      this.forward(rest);
    }
  }

  private onFrame(frame: Buffer): void {
    const type = frame[3]!;
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    const payload = frame.subarray(FRAME_HEADER_LENGTH);
    if (type === TYPE_HEADERS) {
      const { priority, fragment } = headersFramePayload(frame);
      this.block = {
        streamId,
        endStream: (flags & FLAG_END_STREAM) !== 0,
        priority,
        fragments: [fragment],
        frames: [frame],
      };
    } else if (type === TYPE_CONTINUATION && this.block) {
      this.block.fragments.push(payload);
      this.block.frames.push(frame);
    } else {
      this.forward(frame);
      return;
    }
    if (flags & FLAG_END_HEADERS) {
      const block = this.block!;
      this.block = undefined;
      this.onHeaderBlock(block);
    }
  }

  private onHeaderBlock(block: OpenBlock): void {
    let fields: HeaderField[];
    try {
      fields = this.decoder.decode(Buffer.concat(block.fragments));
    } catch (e) {
      if (!(e instanceof HpackError) || this.mode === "repair") throw e;
      this.mode = "passthrough"; // let the server judge a block we cannot read
      for (const f of block.frames) this.forward(f);
      return;
    }
    const bad = fields.some((f) => f.name === ":authority" && authorityNeedsRepair(f.value));
    if (this.mode === "undecided") {
      if (!bad) {
        this.mode = "passthrough";
        for (const f of block.frames) this.forward(f);
        return;
      }
      this.mode = "repair";
    }
    const repaired = fields.map((f) => (f.name === ":authority" && authorityNeedsRepair(f.value) ? { name: f.name, value: repairAuthority(f.value) } : f));
    this.emitHeaderBlock(block, encodeWithoutIndexing(repaired));
  }

  private emitHeaderBlock(block: OpenBlock, encoded: Uint8Array): void {
    const prefix = block.priority ?? Buffer.alloc(0);
    const firstRoom = MAX_FRAME_PAYLOAD - prefix.length;
    const first = encoded.subarray(0, firstRoom);
    let rest = encoded.subarray(first.length);
    let flags = (block.endStream ? FLAG_END_STREAM : 0) | (block.priority ? FLAG_PRIORITY : 0) | (rest.length === 0 ? FLAG_END_HEADERS : 0);
    this.forward(encodeFrame(TYPE_HEADERS, flags, block.streamId, Buffer.concat([prefix, first])));
    while (rest.length > 0) {
      const part = rest.subarray(0, MAX_FRAME_PAYLOAD);
      rest = rest.subarray(part.length);
      flags = rest.length === 0 ? FLAG_END_HEADERS : 0;
      this.forward(encodeFrame(TYPE_CONTINUATION, flags, block.streamId, part));
    }
  }
}
