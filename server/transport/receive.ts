/**
 * The receiving side of the peer service (proto/etcdts/peer.proto): the checks of each request's
 * headers, the delivery of Raft messages to the member in order (for ./stream-serve.ts), and the
 * Connect implementation of etcdts.v1.Peer/Snapshot that reassembles chunked snapshots. Mirrors in behaviour rafthttp's streamHandler / snapshotHandler
 * (etcdserver/api/rafthttp/http.go).
 */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import type { Logger } from "../log.ts";
import { MessageType, type Message } from "../raft/types.ts";
import { messageFromProto } from "../raft/wire.ts";
import { raftMessageSize } from "../raft/message-size.ts";
import { Peer, SnapshotReceivedSchema, type SnapshotChunk } from "../../proto/gen/etcdts/peer_pb.ts";
import type { PeerCounters } from "../metrics/peer-counters.ts";
import { snapshotTransferBytes, type IncomingSnapshot } from "./snapshot-data.ts";
import {
  CLUSTER_ID_HEADER,
  FROM_HEADER,
  REFUSALS,
  checkRequestHeaders,
  hexId,
  type HeaderReader,
  type ReceiverIdentity,
} from "./headers.ts";

/** What the receiving service needs from the transport. */
export interface ReceiverContext extends ReceiverIdentity {
  log: Logger;
  /** Delivers one message (already checked: addressed to this member). */
  deliver(msg: Message): void;
  /** A peer opened a stream to us: it is up (used to cut our back-off to it short). */
  peerConnected(id: bigint): void;
  /** `/metrics` counters: bytes of the Raft messages received per peer (server/raft/message-size.ts). */
  counters?: PeerCounters;
  /** Where the image of an incoming MsgSnap (its metadata in `msg`) is written (./snapshot-data.ts). */
  receiveSnapshotImage(msg: Message): IncomingSnapshot;
}

/**
 * Checks the headers of a call from a peer (`what`: "stream" or "snapshot"); returns the sender.
 * A refusal is logged and thrown (see checkRequestHeaders).
 */
export function admit(header: HeaderReader, self: ReceiverContext, what: string): bigint {
  try {
    return checkRequestHeaders(header, self);
  } catch (e) {
    self.log.warn(`rejected ${what} from remote peer`, {
      "local-member-id": hexId(self.memberId),
      "local-member-cluster-id": hexId(self.clusterId),
      "remote-peer-id-from": header.get(FROM_HEADER) ?? "",
      "remote-peer-cluster-id": header.get(CLUSTER_ID_HEADER) ?? "",
      error: (e as ConnectError).rawMessage,
    });
    throw e;
  }
}

/**
 * True when `msg` is from the member the request headers named and addressed to us; otherwise logs and
 * returns false (so the removed-member check on the headers cannot be bypassed).
 */
function addressedToUs(msg: Message, from: bigint, self: ReceiverContext): boolean {
  if (msg.to === self.memberId && msg.from === from) return true;
  self.log.warn("dropped Raft message with unexpected from/to", {
    "local-member-id": hexId(self.memberId),
    "remote-peer-id-from": hexId(from),
    "message-from": hexId(msg.from),
    "message-to": hexId(msg.to),
  });
  return false;
}

/**
 * Delivers the messages of one batch from peer `from` (its ID as hex in `fromHex`, for the
 * counters; see addressedToUs).
 */
export function deliverBatch(msgs: readonly Message[], from: bigint, fromHex: string, self: ReceiverContext): void {
  let bytes = 0;
  for (const msg of msgs) {
    if (self.counters) bytes += raftMessageSize(msg);
    if (addressedToUs(msg, from, self)) self.deliver(msg);
  }
  if (self.counters && bytes > 0) self.counters.received(fromHex, bytes);
}

/**
 * Reassembles one chunked MsgSnap: the first chunk's message and size, then the image written
 * to ReceiverContext.receiveSnapshotImage piece by piece (never whole in memory unless that
 * keeps it there). Returns the message with the `snapshot.data` the sink gives, and the image
 * size. Throws InvalidArgument when the first chunk has no message, the message is not MsgSnap,
 * or the data does not add up to total_size bytes, FailedPrecondition when the message is not
 * from `from` to us (before anything is written); the sink is aborted on any failure.
 */
async function reassemble(chunks: AsyncIterable<SnapshotChunk>, from: bigint, self: ReceiverContext): Promise<{ msg: Message; sizeBytes: number }> {
  let msg: Message | undefined;
  let sink: IncomingSnapshot | undefined;
  let total = 0;
  let received = 0;
  try {
    for await (const chunk of chunks) {
      if (!msg) {
        if (!chunk.message) throw new ConnectError("snapshot without message", Code.InvalidArgument);
        if (chunk.message.type !== MessageType.MsgSnap) throw new ConnectError("wrong raft message type", Code.InvalidArgument);
        msg = messageFromProto(chunk.message);
        if (!addressedToUs(msg, from, self)) throw new ConnectError(REFUSALS.toMismatch, Code.FailedPrecondition);
        total = Number(chunk.totalSize);
        sink = self.receiveSnapshotImage(msg);
      }
      received += chunk.data.length;
      if (received > total) throw new ConnectError(`snapshot data exceeds ${total} bytes`, Code.InvalidArgument);
      if (chunk.data.length > 0) await sink!.write(chunk.data);
    }
    if (!msg) throw new ConnectError("snapshot without message", Code.InvalidArgument);
    if (received !== total) throw new ConnectError(`snapshot truncated: ${received} of ${total} bytes`, Code.InvalidArgument);
    msg.snapshot = { data: await sink!.finish(), metadata: msg.snapshot!.metadata };
    return { msg, sizeBytes: total };
  } catch (e) {
    sink?.abort();
    throw e;
  }
}

/**
 * The etcdts.v1.Peer methods served by the peer listener's Connect router: Snapshot. Stream is
 * served on the HTTP/2 stream itself (./stream-serve.ts); a Stream call Connect's router gets
 * (another content type) is answered Unimplemented.
 */
export function peerService(self: ReceiverContext): Partial<ServiceImpl<typeof Peer>> {
  return {
    async snapshot(chunks: AsyncIterable<SnapshotChunk>, ctx: HandlerContext) {
      ctx.responseHeader.set(CLUSTER_ID_HEADER, hexId(self.clusterId));
      const from = admit(ctx.requestHeader, self, "snapshot");
      const started = Date.now();
      const { msg, sizeBytes } = await reassemble(chunks, from, self);
      self.log.info("received database snapshot", {
        "local-member-id": hexId(self.memberId),
        "remote-snapshot-sender-id": hexId(from),
        "incoming-snapshot-index": msg.snapshot!.metadata.index,
        "incoming-snapshot-size-bytes": sizeBytes,
        "download-took-ms": Date.now() - started,
      });
      self.counters?.received(hexId(from), snapshotTransferBytes(msg, sizeBytes));
      self.deliver(msg);
      return create(SnapshotReceivedSchema);
    },
  };
}
