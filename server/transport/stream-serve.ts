/**
 * The receiving end of the Raft message stream (etcdts.v1.Peer/Stream; bytes in ./stream-wire.ts),
 * served on the HTTP/2 stream itself rather than through Connect's router, whose async iterables
 * and envelope machinery cost more per batch than decoding the batch. Mirrors in behaviour
 * rafthttp's streamHandler (etcdserver/api/rafthttp/http.go): headers checked before anything
 * is read, an accepted stream answered at once, every batch delivered in order, the stream ended
 * when its sender is removed.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { decodeMessageBatch } from "../raft/message-codec.ts";
import { CLUSTER_ID_HEADER, REFUSALS, hexId, type HeaderReader } from "./headers.ts";
import { admit, deliverBatch, type ReceiverContext } from "./receive.ts";
import {
  ACCEPTED_ENVELOPE,
  COMPRESSED_FLAG,
  EnvelopeReader,
  STREAM_CONTENT_TYPE,
  STREAM_PATH,
  endStreamEnvelope,
} from "./stream-wire.ts";

/** Whether `req` is a Stream call this module serves: HTTP/2 POST to Stream with binary Connect streaming. */
export function isRaftStreamCall(req: Http2ServerRequest): boolean {
  return (
    req.httpVersionMajor === 2 &&
    req.method === "POST" &&
    req.url === STREAM_PATH &&
    (req.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase() === STREAM_CONTENT_TYPE
  );
}

/** A node request's headers as a HeaderReader (the first value of a repeated header). */
function headerReader(req: Http2ServerRequest): HeaderReader {
  return {
    get(name) {
      const v = req.headers[name];
      return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
    },
  };
}

/**
 * Serves one Stream call (see isRaftStreamCall): answers the response headers with our cluster
 * ID and then StreamAccepted, or, for refused headers (server/transport/headers.ts), an
 * end-of-stream with the refusal; then delivers the batches as they arrive
 * (ReceiverContext.deliver) until the sender ends the request. Ends the call with
 * FailedPrecondition `removed member` once the sender is removed, InvalidArgument for a
 * compressed envelope or a malformed batch, ResourceExhausted for an envelope above
 * `readMaxBytes`.
 */
export function serveRaftStream(req: Http2ServerRequest, res: Http2ServerResponse, self: ReceiverContext, readMaxBytes: number): void {
  res.writeHead(200, { "content-type": STREAM_CONTENT_TYPE, [CLUSTER_ID_HEADER]: hexId(self.clusterId) });
  let done = false;
  const finish = (error?: ConnectError) => {
    if (done) return;
    done = true;
    req.removeAllListeners("data");
    req.resume(); // whatever still arrives is read and dropped
    if (!res.writableEnded && !res.destroyed) res.end(endStreamEnvelope(error));
  };
  let from: bigint;
  try {
    from = admit(headerReader(req), self, "stream");
  } catch (e) {
    return finish(ConnectError.from(e));
  }
  const fromHex = hexId(from);
  self.peerConnected(from);
  res.write(ACCEPTED_ENVELOPE);
  const reader = new EnvelopeReader(readMaxBytes);
  req.on("data", (chunk: Uint8Array) => {
    try {
      for (const envelope of reader.push(chunk)) {
        if (self.isRemoved(from)) throw new ConnectError(REFUSALS.removedMember, Code.FailedPrecondition);
        if ((envelope.flags & COMPRESSED_FLAG) !== 0) throw new ConnectError("compressed message without encoding", Code.InvalidArgument);
        let msgs;
        try {
          msgs = decodeMessageBatch(envelope.data);
        } catch (e) {
          throw new ConnectError(`parse binary: ${(e as Error).message}`, Code.InvalidArgument);
        }
        deliverBatch(msgs, from, fromHex, self);
      }
    } catch (e) {
      finish(ConnectError.from(e));
    }
  });
  req.on("end", () => finish(reader.midEnvelope ? new ConnectError("protocol error: promised more bytes", Code.InvalidArgument) : undefined));
  req.on("error", () => finish());
  res.on("error", () => {});
}
