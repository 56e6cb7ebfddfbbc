/**
 * The HTTP/2 frame layout that the connection sniffers (h2-handover.ts, authority-repair.ts,
 * window-repair.ts)
 * read: frame header, the types and flags they look at, and a HEADERS frame's header block
 * fragment. Source: RFC 9113 §3.4 (preface), §4.1 (frame format), §6.2 (HEADERS), §6.5
 * (SETTINGS), §6.9 (WINDOW_UPDATE), §6.10 (CONTINUATION).
 */

/** Length of the client connection preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, octets. */
export const PREFACE_LENGTH = 24;
/** Length of a frame header (length 24 bits, type, flags, stream ID 31 bits), octets. */
export const FRAME_HEADER_LENGTH = 9;
export const TYPE_DATA = 0x0;
export const TYPE_HEADERS = 0x1;
export const TYPE_RST_STREAM = 0x3;
export const TYPE_SETTINGS = 0x4;
export const TYPE_WINDOW_UPDATE = 0x8;
export const TYPE_CONTINUATION = 0x9;
/** SETTINGS parameter SETTINGS_INITIAL_WINDOW_SIZE (RFC 9113 §6.5.2). */
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
/** Length of one SETTINGS parameter (identifier 16 bits, value 32 bits), octets. */
export const SETTING_LENGTH = 6;
/** Every flow-control window's size until SETTINGS or WINDOW_UPDATE change it (RFC 9113 §6.9.2), octets. */
export const DEFAULT_INITIAL_WINDOW_SIZE = 65535;
export const FLAG_ACK = 0x1;
export const FLAG_END_STREAM = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;
/** Largest frame payload every peer must accept (SETTINGS_MAX_FRAME_SIZE default), octets. */
export const MAX_FRAME_PAYLOAD = 16384;

/** One frame: header fields and payload. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_LENGTH);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** A HEADERS frame's payload split up: its priority fields (5 octets, when flagged) and its header block fragment without padding. */
export function headersFramePayload(frame: Buffer): { priority: Buffer | undefined; fragment: Buffer } {
  const flags = frame[4]!;
  const payload = frame.subarray(FRAME_HEADER_LENGTH);
  let offset = 0;
  let padding = 0;
  if (flags & FLAG_PADDED) {
    padding = payload[0] ?? 0;
    offset = 1;
  }
  const priority = flags & FLAG_PRIORITY ? payload.subarray(offset, offset + 5) : undefined;
  if (priority) offset += 5;
  return { priority, fragment: payload.subarray(offset, Math.max(offset, payload.length - padding)) };
}
