/**
 * The {@link PageSink} of a streamed snapshot: pages arrive in file order (the writer allocates
 * page ids as it writes, ./bbolt/writer.ts) and are cut into the fixed-size blobs of
 * Maintenance.Snapshot's messages, hashed as they are cut (etcd's snapshot SHA-256 trailer,
 * etcdserver/api/v3rpc/maintenance.go). Each blob is cut straight into its message's gRPC frame
 * in a reused buffer: a fresh 32 KiB chunk per message, copied again into the frame that was
 * written, cost about a third of a save's CPU (page faults on fresh memory, and collections). The head pages (metas and freelist, pages 0..2) come
 * from a layout pass and are sent first; the full run writes them again at its end, and they
 * must come out identical, or the file sent would not be the file built.
 */
import { createHash, type Hash } from "node:crypto";
import type { PageSink } from "./bbolt/writer.ts";
import { writeBuffers, type PooledBuffer } from "../http/write-buffer-pool.ts";
import { frameHeadSize, writeFrameHead } from "./response-frame.ts";

/** Collects pages 0..headPages-1 of a layout pass (BboltWriter layoutOnly). */
export class HeadPagesSink implements PageSink {
  readonly pages: Uint8Array[] = [];

  constructor(readonly pageSize: number) {}

  writePages(pgid: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length / this.pageSize; i++) this.pages[pgid + i] = bytes.slice(i * this.pageSize, (i + 1) * this.pageSize);
  }
}

/**
 * One SnapshotResponse's fields, as a snapshot stream yields them. `frame`, when present, is the
 * message already encoded as a gRPC frame (./response-frame.ts) with `blob` inside it, and the
 * frames of consecutive chunks lie back to back in one buffer, so a gRPC writer can send several
 * with one write of `new Uint8Array(frame.buffer, ...)` without copying. `release`, when
 * present, says the consumer no longer needs `blob` and `frame`: their memory may then be
 * reused for later chunks (call it once, e.g. from the write's callback). A consumer that never
 * calls it may keep both for good; the memory is then not reused.
 */
export type SnapshotChunk = { remainingBytes: bigint; blob: Uint8Array; frame?: Uint8Array; release?: () => void };

/**
 * Bytes of a frame buffer, a size class of the write buffer pool (server/http/write-buffer-pool.ts):
 * seven 32 KiB chunks and their heads. A gRPC write sends about four (server/api/snapshot-grpc.ts).
 */
export const FRAME_BUFFER_BYTES = 256 * 1024;

/** A buffer of frames: given back to the pool once it is full and every frame cut from it was released. */
type FrameBuffer = { pooled: PooledBuffer; bytes: Uint8Array; handedOut: number; released: number; sealed: boolean };

/**
 * Cuts a file of `totalBytes` into blobs of `chunkBytes` (the last one shorter), each written in
 * place inside its SnapshotResponse gRPC frame (see {@link SnapshotChunk}): as many frames as fit
 * in {@link FRAME_BUFFER_BYTES} per buffer, taken from the process's write buffer pool and given
 * back once their chunks are released, so a consumer that releases what it has written keeps the
 * memory at a few buffers whatever the size, and later snapshots reuse them. Errors (thrown by
 * writePages): a page out of order, past the announced size, or a head page that differs from
 * the layout pass's.
 */
export class ChunkSink implements PageSink {
  private readonly ready: SnapshotChunk[] = [];
  /** Frames per buffer (the largest frame, the first, sets it). */
  readonly framesPerBuffer: number;
  private buf: FrameBuffer;
  /** Where the next frame starts in `buf`. */
  private bufPos = 0;
  /** The chunk being filled: its frame's start, its blob's start in `buf`, length and bytes so far. */
  private frameStart = 0;
  private blobStart = 0;
  private chunkLen = 0;
  private fill = 0;
  private nextPgid: number;
  /** Bytes cut into blobs so far. */
  private cut = 0;
  private readonly hash: Hash = createHash("sha256");

  constructor(
    private readonly head: HeadPagesSink,
    readonly totalBytes: number,
    private readonly chunkBytes: number,
  ) {
    this.framesPerBuffer = Math.max(1, Math.floor(FRAME_BUFFER_BYTES / (chunkBytes + frameHeadSize(totalBytes, chunkBytes))));
    this.buf = this.newBuffer();
    this.startChunk();
    this.nextPgid = head.pages.length;
    for (const p of head.pages) this.append(p);
  }

  writePages(pgid: number, bytes: Uint8Array): void {
    if (pgid < this.head.pages.length) {
      for (let i = 0; i < bytes.length / this.head.pageSize; i++) {
        const sent = this.head.pages[pgid + i]!;
        const again = bytes.subarray(i * this.head.pageSize, (i + 1) * this.head.pageSize);
        if (Buffer.compare(sent, again) !== 0) throw new Error(`snapshot: page ${pgid + i} differs from its layout pass`);
      }
      return;
    }
    if (pgid !== this.nextPgid) throw new Error(`snapshot: page ${pgid} written out of order (expected ${this.nextPgid})`);
    this.nextPgid += bytes.length / this.head.pageSize;
    this.append(bytes);
  }

  /** The chunks completed since the last call, in order. */
  take(): SnapshotChunk[] {
    return this.ready.splice(0);
  }

  /** Bytes handed out by take() plus those waiting, i.e. pages received so far. */
  get bytesCut(): number {
    return this.cut + this.fill;
  }

  /** The SHA-256 of the whole file; throws unless exactly `totalBytes` arrived. The last buffer goes back to the pool once released. */
  digest(): Uint8Array {
    if (this.bytesCut !== this.totalBytes) throw new Error(`snapshot: built ${this.bytesCut} bytes, announced ${this.totalBytes}`);
    this.buf.sealed = true;
    this.recycle(this.buf);
    return new Uint8Array(this.hash.digest());
  }

  private newBuffer(): FrameBuffer {
    const pooled = writeBuffers.take(this.framesPerBuffer * (this.chunkBytes + frameHeadSize(this.totalBytes, this.chunkBytes)));
    // A plain Uint8Array view: a Buffer's slice() would not copy, and consumers may slice a blob to keep it.
    const bytes = new Uint8Array(pooled.bytes.buffer, pooled.bytes.byteOffset, pooled.bytes.length);
    return { pooled, bytes, handedOut: 0, released: 0, sealed: false };
  }

  /** Gives `b`'s memory back to the pool once it is full and all its chunks were released. */
  private recycle(b: FrameBuffer): void {
    if (b.sealed && b.released === b.handedOut) b.pooled.release();
  }

  /** Lays out the next chunk's frame head in the current buffer (a fresh one when it is full). */
  private startChunk(): void {
    this.chunkLen = Math.min(this.chunkBytes, this.totalBytes - this.cut);
    if (this.chunkLen === 0) return;
    const remaining = this.totalBytes - this.cut - this.chunkLen;
    if (this.bufPos + frameHeadSize(remaining, this.chunkLen) + this.chunkLen > this.buf.bytes.length) {
      const full = this.buf;
      full.sealed = true;
      this.recycle(full);
      this.buf = this.newBuffer();
      this.bufPos = 0;
    }
    this.frameStart = this.bufPos;
    this.blobStart = writeFrameHead(this.buf.bytes, this.bufPos, remaining, this.chunkLen);
  }

  private append(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      if (this.cut + this.fill >= this.totalBytes) throw new Error(`snapshot: pages past the announced ${this.totalBytes} bytes`);
      const n = Math.min(bytes.length - at, this.chunkLen - this.fill);
      this.buf.bytes.set(at === 0 && n === bytes.length ? bytes : bytes.subarray(at, at + n), this.blobStart + this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.chunkLen) this.endChunk();
    }
  }

  private endChunk(): void {
    const b = this.buf;
    const end = this.blobStart + this.chunkLen;
    const blob = b.bytes.subarray(this.blobStart, end);
    this.hash.update(blob);
    this.cut += this.chunkLen;
    this.fill = 0;
    b.handedOut++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      b.released++;
      this.recycle(b);
    };
    this.ready.push({ remainingBytes: BigInt(this.totalBytes - this.cut), blob, frame: b.bytes.subarray(this.frameStart, end), release });
    this.bufPos = end;
    this.startChunk();
  }
}
