/**
 * Hands a client's HTTP/2 connection to the HTTP/2 server: the socket itself when its first
 * request has a well-formed `:authority`, else through {@link AuthorityRepairStream}; a
 * connection whose first request is to one of the given bulk paths (Maintenance.Snapshot) goes
 * through {@link InitialWindowRepairStream}, so that grpc-go's growing flow-control window
 * reaches Bun's HTTP/2 server (see window-repair.ts).
 *
 * Bun's HTTP/2 server parses a socket natively, but a JavaScript stream in between (the repair
 * stream) costs every byte of the connection a trip through node:stream, in both directions.
 * Only grpc-go clients that dial a single endpoint by its URL (etcdctl `endpoint status`) send a
 * malformed `:authority`, so the first header block decides. grpc-go sends no request before the
 * server's SETTINGS frame, so this module answers the client's preface with an empty SETTINGS
 * frame (all defaults, RFC 9113 §6.5) and drops the client's acknowledgement of it; the HTTP/2
 * server sends its own SETTINGS when it takes the connection, and the client acknowledges that
 * one to the server. The bytes read while deciding are put back on the socket (or fed to the
 * repair stream) unchanged otherwise.
 *
 * A connection that sends no complete header block within `decideMs` (an idle pooled
 * connection), a frame larger than the default maximum, or a header block HPACK cannot read goes
 * through the repair stream, which forwards everything at once and decides later.
 * Frames: RFC 9113 §3.4 (preface), §4.1, §6.2, §6.5, §6.10.
 */
import type * as net from "node:net";
import { AuthorityRepairStream, authorityNeedsRepair } from "./authority-repair.ts";
import { HpackDecoder } from "./hpack.ts";
import { InitialWindowRepairStream } from "./window-repair.ts";
import {
  FLAG_ACK,
  FLAG_END_HEADERS,
  FRAME_HEADER_LENGTH,
  headersFramePayload,
  MAX_FRAME_PAYLOAD,
  PREFACE_LENGTH,
  TYPE_CONTINUATION,
  TYPE_HEADERS,
  TYPE_SETTINGS,
} from "./h2-frames.ts";

/** How long a connection may stay without a first request before it takes the repair stream, ms. */
export const FIRST_REQUEST_DECIDE_MS = 1000;

/** An empty SETTINGS frame: length 0, type SETTINGS, no flags, stream 0. */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, TYPE_SETTINGS, 0, 0, 0, 0, 0]);

/** Where one connection goes: the socket itself, or a repair stream standing in for it. */
export type Http2Connection = net.Socket | AuthorityRepairStream | InitialWindowRepairStream;

/**
 * Reads `socket` (which still holds the client's connection preface) until it can tell whether
 * its requests need their `:authority` repaired, then calls `deliver` once with what the HTTP/2
 * server should take. `bulkPaths`: `:path`s of responses large enough to need the window repair
 * when they are the connection's first request. Never throws; a socket that closes first is left
 * to its close handlers.
 */
export function handOverHttp2Connection(
  socket: net.Socket,
  deliver: (conn: Http2Connection) => void,
  decideMs = FIRST_REQUEST_DECIDE_MS,
  bulkPaths: ReadonlySet<string> = new Set(),
): void {
  /** Bytes to give back: everything read, less the acknowledgement of our SETTINGS. */
  const kept: Buffer[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let prefaceSeen = false;
  let ackDropped = false;
  /** The first header block's fragments while it spans CONTINUATION frames. */
  let fragments: Buffer[] | undefined;
  /** The first header block's verdict, once known. */
  let wellFormed: boolean | undefined;
  /** Whether the first request is to one of `bulkPaths`. */
  let bulk = false;
  let done = false;

  const finish = (raw: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.off("readable", onReadable);
    socket.off("close", onClose);
    const bytes = Buffer.concat([...kept, pending]);
    if (raw && bulk) {
      deliver(new InitialWindowRepairStream(socket, bytes));
    } else if (raw) {
      if (bytes.length > 0) socket.unshift(bytes);
      deliver(socket);
    } else {
      deliver(new AuthorityRepairStream(socket, bytes, prefaceSeen && !ackDropped));
    }
  };

  const onFrame = (frame: Buffer): boolean => {
    const type = frame[3]!;
    const flags = frame[4]!;
    if (type === TYPE_SETTINGS && flags & FLAG_ACK && !ackDropped) {
      ackDropped = true; // the client's acknowledgement of EMPTY_SETTINGS: the server never sent it
      return true;
    }
    kept.push(frame);
    if (wellFormed !== undefined) return true;
    if (type === TYPE_HEADERS) {
      fragments = [headersFramePayload(frame).fragment];
    } else if (type === TYPE_CONTINUATION && fragments) {
      fragments.push(frame.subarray(FRAME_HEADER_LENGTH));
    } else {
      return true;
    }
    if (!(flags & FLAG_END_HEADERS)) return true;
    try {
      const fields = new HpackDecoder().decode(Buffer.concat(fragments));
      wellFormed = !fields.some((f) => f.name === ":authority" && authorityNeedsRepair(f.value));
      bulk = fields.some((f) => f.name === ":path" && bulkPaths.has(f.value.split("?", 1)[0]!));
    } catch {
      return false; // the repair stream passes it through and the server judges it
    }
    return true;
  };

  const onReadable = () => {
    for (let c: Buffer | null; (c = socket.read() as Buffer | null) !== null; ) {
      pending = pending.length === 0 ? c : Buffer.concat([pending, c]);
    }
    if (!prefaceSeen) {
      if (pending.length < PREFACE_LENGTH) return;
      kept.push(pending.subarray(0, PREFACE_LENGTH));
      pending = pending.subarray(PREFACE_LENGTH);
      prefaceSeen = true;
      socket.write(EMPTY_SETTINGS);
    }
    while (pending.length >= FRAME_HEADER_LENGTH) {
      const length = pending.readUIntBE(0, 3);
      if (length > MAX_FRAME_PAYLOAD) return finish(false);
      if (pending.length < FRAME_HEADER_LENGTH + length) break;
      const frame = pending.subarray(0, FRAME_HEADER_LENGTH + length);
      pending = pending.subarray(FRAME_HEADER_LENGTH + length);
      if (!onFrame(frame)) return finish(false);
    }
    if (wellFormed === false) return finish(false);
    // The server may take the socket only once the client acknowledged our SETTINGS.
    if (wellFormed === true && ackDropped) return finish(true);
    if (socket.readableEnded) finish(false);
  };
  const onClose = () => {
    done = true;
    clearTimeout(timer);
  };
  const timer = setTimeout(() => finish(false), decideMs);
  socket.on("readable", onReadable);
  socket.on("close", onClose);
  onReadable();
}
