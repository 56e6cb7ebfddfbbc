/**
 * The {@link PageSink} of a streamed snapshot: pages arrive in file order (the writer allocates
 * page ids as it writes, ./bbolt/writer.ts) and are cut into the fixed-size blobs of
 * Maintenance.Snapshot's messages, hashed as they are cut (etcd's snapshot SHA-256 trailer,
 * etcdserver/api/v3rpc/maintenance.go). The head pages (metas and freelist, pages 0..2) come
 * from a layout pass and are sent first; the full run writes them again at its end, and they
 * must come out identical, or the file sent would not be the file built.
 */
import { createHash, type Hash } from "node:crypto";
import type { PageSink } from "./bbolt/writer.ts";

/** Collects pages 0..headPages-1 of a layout pass (BboltWriter layoutOnly). */
export class HeadPagesSink implements PageSink {
  readonly pages: Uint8Array[] = [];

  constructor(readonly pageSize: number) {}

  writePages(pgid: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length / this.pageSize; i++) this.pages[pgid + i] = bytes.slice(i * this.pageSize, (i + 1) * this.pageSize);
  }
}

/**
 * Cuts a file of `totalBytes` into blobs of `chunkBytes` (the last one shorter). Each blob is a
 * fresh buffer the consumer may keep. Errors (thrown by writePages): a page out of order, past
 * the announced size, or a head page that differs from the layout pass's.
 */
export class ChunkSink implements PageSink {
  private readonly ready: Uint8Array[] = [];
  private chunk: Uint8Array;
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
    this.chunk = new Uint8Array(Math.min(chunkBytes, totalBytes));
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

  /** The blobs completed since the last call, in order. */
  take(): Uint8Array[] {
    return this.ready.splice(0);
  }

  /** Bytes handed out by take() plus those waiting, i.e. pages received so far. */
  get bytesCut(): number {
    return this.cut + this.fill;
  }

  /** The SHA-256 of the whole file; throws unless exactly `totalBytes` arrived. */
  digest(): Uint8Array {
    if (this.bytesCut !== this.totalBytes) throw new Error(`snapshot: built ${this.bytesCut} bytes, announced ${this.totalBytes}`);
    return new Uint8Array(this.hash.digest());
  }

  private append(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      if (this.cut + this.fill >= this.totalBytes) throw new Error(`snapshot: pages past the announced ${this.totalBytes} bytes`);
      const n = Math.min(bytes.length - at, this.chunk.length - this.fill);
      this.chunk.set(bytes.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.chunk.length) {
        this.hash.update(this.chunk);
        this.ready.push(this.chunk);
        this.cut += this.fill;
        this.fill = 0;
        this.chunk = new Uint8Array(Math.min(this.chunkBytes, Math.max(0, this.totalBytes - this.cut)));
      }
    }
  }
}
