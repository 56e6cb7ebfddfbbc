/**
 * Reused buffers for stream writes (the raw gRPC Watch writer, server/api/watch-grpc.ts).
 *
 * Why: a watch stream writes one buffer of gRPC frames per committed revision. A fresh
 * `Buffer.allocUnsafe` of a few KiB per write is malloc'd memory (larger than JavaScriptCore's
 * in-heap typed arrays), freed by a later GC; at a low write rate the allocator (Bun's mimalloc)
 * hands the freed pages back to the kernel in between (its purge), and the next write faults them
 * in again. In a `perf` profile of a member serving 100 watchers at 100 puts/s those page faults
 * and the allocator's purge thread were ~15% of the process's CPU. Buffers taken here go back to
 * the pool once the stream's write callback says the data was handled (Node's `writable.write`
 * contract: the chunk may be reused after its callback), so steady writes reuse the same memory.
 *
 * server/http/spare-frame.ts does the same for large unary answers with one spare buffer of up
 * to 8 MiB; watch writes are many small ones in flight at once (one per stream per revision), so
 * they need several buffers per size instead. (Merging the two is left for later.)
 *
 * Limits: buffers are size classes of powers of two from {@link MIN_BUFFER_BYTES} to
 * {@link MAX_POOLED_BYTES}; larger requests get a fresh buffer that is not kept. At most
 * {@link MAX_FREE_BYTES_PER_CLASS} of free buffers per class are kept (8 MiB in all at most):
 * enough for one write in flight on each of a few hundred small streams at once.
 */

/** Smallest pooled buffer, bytes. */
export const MIN_BUFFER_BYTES = 4096;
/** Largest pooled buffer, bytes (the watch writer gathers up to 256 KiB per write, plus one response). */
export const MAX_POOLED_BYTES = 512 * 1024;
/** Bytes of free buffers kept per size class (so 256 of 4 KiB, 2 of 512 KiB). */
export const MAX_FREE_BYTES_PER_CLASS = 1024 * 1024;

/** A buffer of the pool: `bytes` is the region to write, `release` gives the whole buffer back. */
export interface PooledBuffer {
  /** A view of exactly the requested length. */
  bytes: Buffer;
  /** Returns the buffer to the pool; call once, after the write that used it was handled. */
  release(): void;
}

/** Size class index of `n` bytes (0 = MIN_BUFFER_BYTES), or -1 when larger than MAX_POOLED_BYTES. */
function classOf(n: number): number {
  if (n > MAX_POOLED_BYTES) return -1;
  let c = 0;
  for (let size = MIN_BUFFER_BYTES; size < n; size *= 2) c++;
  return c;
}

/** The pool; one per process is enough (everything runs on the one JavaScript thread). */
export class WriteBufferPool {
  private readonly free: Buffer[][] = [];

  /** A buffer of at least `n` bytes (its `bytes` view has exactly `n`). */
  take(n: number): PooledBuffer {
    const c = classOf(n);
    if (c < 0) return { bytes: Buffer.allocUnsafe(n), release: noop };
    const list = (this.free[c] ??= []);
    const whole = list.pop() ?? Buffer.allocUnsafe(MIN_BUFFER_BYTES << c);
    let released = false;
    return {
      bytes: whole.subarray(0, n),
      release: () => {
        if (released) return;
        released = true;
        if ((list.length + 1) * whole.length <= MAX_FREE_BYTES_PER_CLASS) list.push(whole);
      },
    };
  }

  /** Free buffers held now, per size class (for tests). */
  freeCounts(): number[] {
    return Array.from(this.free, (l) => l?.length ?? 0);
  }
}

function noop(): void {}
