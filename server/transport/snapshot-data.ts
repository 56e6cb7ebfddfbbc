/**
 * Where the data of a MsgSnap comes from on the sender and goes to on the receiver. The Raft
 * message carries only the snapshot's metadata; the state-machine image travels beside it in
 * chunks, as etcd's rafthttp does (etcdserver/snapshot_merge.go createMergedSnapshotMessage
 * streams the bbolt file, rafthttp/http.go snapshotHandler saves it with snapshotter.SaveDBFrom).
 *
 * The member supplies file-backed ones (server/node/raft-snapshot-image.ts) so memory stays
 * bounded whatever the backend size; without them the transport sends and delivers the
 * message's own `snapshot.data` in memory (transport tests, the transport benchmark).
 */
import { raftMessageSize } from "../raft/message-size.ts";
import { EMPTY_BYTES, type Message } from "../raft/types.ts";

/**
 * Bytes one MsgSnap transfer counts in the peer byte metrics, on both ends: the message as sent
 * (its snapshot without data) plus the image, as etcd adds the message's Size() and the database
 * file's bytes (rafthttp/snapshot_sender.go TotalSize, rafthttp/http.go snapshotHandler).
 */
export function snapshotTransferBytes(m: Message, imageBytes: number): number {
  return raftMessageSize({ ...m, snapshot: { ...m.snapshot!, data: EMPTY_BYTES } }) + imageBytes;
}

/** The image sent with one MsgSnap. */
export interface OutgoingSnapshot {
  /** Size of the image, bytes. */
  readonly sizeBytes: number;
  /** The image in order, in pieces of at most `chunkBytes` (each a new buffer). */
  read(chunkBytes: number): AsyncIterable<Uint8Array>;
  /** The transfer ended (delivered or not): free what the image holds (temporary file). */
  release(): void;
}

/** The image of one incoming MsgSnap, written as its chunks arrive. */
export interface IncomingSnapshot {
  /** Appends the next piece. Errors: file system errors (then the transfer fails). */
  write(piece: Uint8Array): Promise<void>;
  /** Every byte arrived: returns the `snapshot.data` the delivered message carries. */
  finish(): Promise<Uint8Array>;
  /** The transfer failed: drop what was written. */
  abort(): void;
}

/** The message's own `snapshot.data`, sent from memory. */
export function inMemoryOutgoing(data: Uint8Array): OutgoingSnapshot {
  return {
    sizeBytes: data.length,
    async *read(chunkBytes) {
      for (let off = 0; off < data.length; off += chunkBytes) yield data.subarray(off, off + chunkBytes);
    },
    release() {},
  };
}

/** Collects the image in memory and delivers it as `snapshot.data`. */
export function inMemoryIncoming(): IncomingSnapshot {
  const parts: Uint8Array[] = [];
  return {
    async write(piece) {
      parts.push(piece);
    },
    async finish() {
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    },
    abort() {
      parts.length = 0;
    },
  };
}
