/**
 * Makes Bun's HTTP/2 server honour a client's mid-connection raise of
 * SETTINGS_INITIAL_WINDOW_SIZE on the streams already open.
 *
 * RFC 9113 §6.9.2: when a SETTINGS frame changes SETTINGS_INITIAL_WINDOW_SIZE, the sender must
 * adjust the window of every open stream by the difference. Bun's `node:http2` (1.4.5,
 * `h2_frame_parser.zig` handleSettingsFrame) instead sets a stream's send allowance to the new
 * size only when that is above the allowance so far, which already counts every WINDOW_UPDATE:
 * on a stream that received WINDOW_UPDATEs the raise is lost. grpc-go clients (the Go
 * `etcdctl`) raise the setting as their BDP estimator grows the window (grpc-go
 * internal/transport/bdp_estimator.go): the client then believes it granted 128 KiB or more
 * while Bun keeps sending at most 64 KiB per round trip, and because the estimator only grows
 * the window when a round trip carried at least 2/3 of it, it never grows again. A 34 MiB
 * `etcdctl snapshot save` made ~550 round trips of 64 KiB (strace of the server).
 *
 * This stream sits between the socket and the HTTP/2 server. It reads the client's frames and,
 * before forwarding a SETTINGS frame that raises the initial window by `d`, inserts a
 * WINDOW_UPDATE of `d` for every stream still open, which is what the server should have added
 * itself (Bun then leaves the allowance alone: it is already at least the new size). Streams are
 * tracked from the client's HEADERS until either side ends them (END_STREAM from the server,
 * RST_STREAM from either side); a WINDOW_UPDATE for a stream the server has just closed is
 * ignored by it. Lowering the setting is passed on unchanged (Bun ignores that too; no client
 * we serve does it mid-stream). Everything else passes unchanged in both directions.
 *
 * Every byte of the connection goes through node:stream here, so only connections whose first
 * request streams a lot to the client use it (server/http/h2-handover.ts, Maintenance.Snapshot).
 * Pinned by window-repair.test.ts: if Bun fixes its bookkeeping, that test fails and this stream
 * must go (it would then grant the window twice).
 */
import type * as net from "node:net";
import { SocketStandIn } from "./socket-stand-in.ts";
import {
  DEFAULT_INITIAL_WINDOW_SIZE,
  encodeFrame,
  FLAG_ACK,
  FLAG_END_STREAM,
  FRAME_HEADER_LENGTH,
  PREFACE_LENGTH,
  SETTING_LENGTH,
  SETTINGS_INITIAL_WINDOW_SIZE,
  TYPE_DATA,
  TYPE_HEADERS,
  TYPE_RST_STREAM,
  TYPE_SETTINGS,
  TYPE_WINDOW_UPDATE,
} from "./h2-frames.ts";

/** A WINDOW_UPDATE frame granting `increment` octets on `streamId`. */
function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment & 0x7fffffff);
  return encodeFrame(TYPE_WINDOW_UPDATE, 0, streamId, payload);
}

/** The SETTINGS_INITIAL_WINDOW_SIZE value in SETTINGS `frame` (the last one wins), if any. */
function initialWindowSetting(frame: Buffer): number | undefined {
  let value: number | undefined;
  for (let at = FRAME_HEADER_LENGTH; at + SETTING_LENGTH <= frame.length; at += SETTING_LENGTH) {
    if (frame.readUInt16BE(at) === SETTINGS_INITIAL_WINDOW_SIZE) value = frame.readUInt32BE(at + 2);
  }
  return value;
}

/**
 * A Duplex over `socket` for the HTTP/2 server (`h2.emit("connection", stream)`): reads are the
 * client's bytes with the WINDOW_UPDATEs described in the module doc inserted, writes go to the
 * socket unchanged. `initial`: bytes already read from `socket` (h2-handover.ts), starting with
 * the connection preface.
 */
export class InitialWindowRepairStream extends SocketStandIn {
  private buffered: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  /** The client's SETTINGS_INITIAL_WINDOW_SIZE so far, octets. */
  private initialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  /** Streams the client opened that neither side has ended. */
  private readonly open = new Set<number>();
  private lastOpened = 0;
  /** The server's output: the partial frame header being read, and payload octets still to skip. */
  private outHeader: Buffer = Buffer.alloc(0);
  private outSkip = 0;

  constructor(socket: net.Socket, initial?: Buffer) {
    super(socket);
    this.start(initial);
  }

  /** Streams currently tracked as open (for tests). */
  get openStreams(): number[] {
    return [...this.open];
  }

  protected onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      if (this.buffered.length < PREFACE_LENGTH) return;
      out.push(this.buffered.subarray(0, PREFACE_LENGTH));
      this.buffered = this.buffered.subarray(PREFACE_LENGTH);
      this.prefaceSeen = true;
    }
    while (this.buffered.length >= FRAME_HEADER_LENGTH) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < FRAME_HEADER_LENGTH + length) break;
      const frame = this.buffered.subarray(0, FRAME_HEADER_LENGTH + length);
      this.buffered = this.buffered.subarray(FRAME_HEADER_LENGTH + length);
      this.onClientFrame(frame, out);
      out.push(frame);
    }
    if (out.length > 0) this.forward(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  /** Tracks streams the client opens or resets; before a raising SETTINGS, adds its WINDOW_UPDATEs to `out`. */
  private onClientFrame(frame: Buffer, out: Buffer[]): void {
    const type = frame[3]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    if (type === TYPE_HEADERS && streamId > this.lastOpened) {
      this.lastOpened = streamId;
      this.open.add(streamId);
    } else if (type === TYPE_RST_STREAM) {
      this.open.delete(streamId);
    } else if (type === TYPE_SETTINGS && (frame[4]! & FLAG_ACK) === 0) {
      const size = initialWindowSetting(frame);
      if (size === undefined) return;
      const raise = size - this.initialWindow;
      this.initialWindow = size;
      if (raise > 0) for (const id of this.open) out.push(windowUpdate(id, raise));
    }
  }

  /** Reads the frame headers in the server's output `chunk` and forgets the streams it ends. */
  protected override onServerBytes(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.outSkip > 0) {
        const n = Math.min(this.outSkip, chunk.length - at);
        this.outSkip -= n;
        at += n;
        continue;
      }
      const need = FRAME_HEADER_LENGTH - this.outHeader.length;
      const part = chunk.subarray(at, at + need);
      this.outHeader = this.outHeader.length === 0 ? Buffer.from(part) : Buffer.concat([this.outHeader, part]);
      at += part.length;
      if (this.outHeader.length < FRAME_HEADER_LENGTH) return;
      const header = this.outHeader;
      this.outHeader = Buffer.alloc(0);
      this.outSkip = header.readUIntBE(0, 3);
      const type = header[3]!;
      const streamId = header.readUInt32BE(5) & 0x7fffffff;
      const ends = type === TYPE_RST_STREAM || ((type === TYPE_DATA || type === TYPE_HEADERS) && (header[4]! & FLAG_END_STREAM) !== 0);
      if (ends) this.open.delete(streamId);
    }
  }
}
