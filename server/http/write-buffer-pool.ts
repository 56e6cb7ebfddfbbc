/**
 * Reused buffers for stream writes: the one place the server keeps memory it wrote from, for
 * the raw gRPC Watch writer (server/api/watch-grpc.ts), large unary answers
 * (server/http/grpc-unary.ts, a 10,000-key range is a 2.8 MB message) and the frames of a
 * streamed snapshot (server/snapshot/chunk-sink.ts).
 *
 * Why: a fresh buffer of more than a few KiB is malloc'd memory (larger than JavaScriptCore's
 * in-heap typed arrays) or, from about 512 KiB, a fresh mapping, freed by a later collection;
 * filling it faults every 4 KiB page in again. The allocator (Bun's mimalloc) also hands freed
 * pages back to the kernel in between (its purge). Measured before the pools were merged: a
 * member serving 100 watchers at 100 puts/s spent ~15% of its CPU in those page faults and the
 * purge thread; a 10,000-key range spent about as much CPU faulting its fresh answer buffer in
 * as encoding it; a 34 MiB snapshot copied into fresh 32 KiB chunks spent about a third of its
 * CPU there. Buffers taken here go back to the pool once the stream's write callback says the
 * data was handled (Node's `writable.write` contract: the chunk may be reused after its
 * callback), so steady writes reuse the same memory.
 *
 * Limits: buffers are size classes of powers of two from {@link MIN_BUFFER_BYTES} to
 * {@link MAX_POOLED_BYTES}; a larger request gets a fresh buffer that is not kept. The pool
 * keeps at most {@link MAX_FREE_BYTES} of free buffers in all, and at most
 * {@link MAX_FREE_BYTES_PER_CLASS} per class (but always one buffer of a class larger than
 * that), so that one kind of write cannot take the room of the others: one write in flight on
 * each of a few hundred small watch streams, a snapshot's frames of one build step and those
 * the HTTP/2 stream still holds (~3 MiB), and one large answer.
 */

/** Smallest pooled buffer, bytes. */
export const MIN_BUFFER_BYTES = 4096;
/** Largest pooled buffer, bytes (a unary answer larger than this gets a buffer of its own). */
export const MAX_POOLED_BYTES = 8 * 1024 * 1024;
/** Bytes of free buffers kept in all, whatever their class: the pool's memory while idle. */
export const MAX_FREE_BYTES = 16 * 1024 * 1024;
/** Bytes of free buffers kept per size class (so 1,024 of 4 KiB, 16 of 256 KiB, 1 of 8 MiB). */
export const MAX_FREE_BYTES_PER_CLASS = 4 * 1024 * 1024;

/** A buffer of the pool: `bytes` is the region to write, `release` gives the whole buffer back. */
export interface PooledBuffer {
  /** A view of exactly the requested length, at offset 0 of the whole buffer. */
  bytes: Buffer;
  /** Returns the buffer to the pool; call once, after the write that used it was handled. Later calls do nothing. */
  release(): void;
}

/** Size class index of `n` bytes (0 = MIN_BUFFER_BYTES), or -1 when larger than MAX_POOLED_BYTES. */
function classOf(n: number): number {
  if (n > MAX_POOLED_BYTES) return -1;
  let c = 0;
  for (let size = MIN_BUFFER_BYTES; size < n; size *= 2) c++;
  return c;
}

/** The pool; one per process is enough (everything runs on the one JavaScript thread): {@link writeBuffers}. */
export class WriteBufferPool {
  private readonly free: Buffer[][] = [];
  private freeBytes = 0;

  /** A buffer of at least `n` bytes (its `bytes` view has exactly `n`; contents undefined). */
  take(n: number): PooledBuffer {
    const c = classOf(n);
    if (c < 0) return { bytes: Buffer.allocUnsafe(n), release: noop };
    const list = (this.free[c] ??= []);
    const reused = list.pop();
    if (reused) this.freeBytes -= reused.length;
    const whole = reused ?? Buffer.allocUnsafe(MIN_BUFFER_BYTES << c);
    let released = false;
    return {
      bytes: whole.subarray(0, n),
      release: () => {
        if (released) return;
        released = true;
        this.give(c, whole);
      },
    };
  }

  /** Free buffers held now, per size class (for tests). */
  freeCounts(): number[] {
    return Array.from(this.free, (l) => l?.length ?? 0);
  }

  /** Keeps `whole` (of class `c`) for reuse when the limits allow. */
  private give(c: number, whole: Buffer): void {
    const list = (this.free[c] ??= []);
    const classFull = list.length > 0 && (list.length + 1) * whole.length > MAX_FREE_BYTES_PER_CLASS;
    if (classFull || this.freeBytes + whole.length > MAX_FREE_BYTES) return;
    list.push(whole);
    this.freeBytes += whole.length;
  }
}

/** The process's pool. */
export const writeBuffers = new WriteBufferPool();

function noop(): void {}
