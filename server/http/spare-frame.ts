/**
 * One reusable buffer for large unary gRPC answers (a 10,000-key range of 256-byte values is a
 * 2.8 MB message). A fresh buffer of that size is a fresh mapping: filling it took a page fault
 * per 4 KiB, about as much CPU as encoding the answer (a 10,000-key range: 3-4 ms of the JS
 * thread, plus kernel time). An answer takes the spare buffer with {@link takeFrame} and gives
 * it back with {@link returnFrame} from its write callback, when node:http2 is done with the
 * chunk (Node's Writable contract: the caller may reuse a chunk once its callback ran). While the
 * spare is out, and for answers outside [MIN_SPARE_BYTES, MAX_SPARE_BYTES], answers get fresh
 * buffers. Holds at most MAX_SPARE_BYTES while idle.
 */

/** Smaller frames come from Buffer.allocUnsafe's own pool or are cheap to allocate. */
const MIN_SPARE_BYTES = 64 * 1024;
/** Larger frames are not kept: the spare buffer's memory while idle stays below this, bytes. */
const MAX_SPARE_BYTES = 8 * 1024 * 1024;

let spare: Buffer | undefined;

/**
 * A buffer of exactly `size` bytes (contents undefined): a view of the spare buffer when it is
 * free and large enough, else a fresh one. Give it back with {@link returnFrame} once written.
 */
export function takeFrame(size: number): Buffer {
  const s = spare;
  if (s !== undefined && size >= MIN_SPARE_BYTES && s.length >= size) {
    spare = undefined;
    return s.subarray(0, size);
  }
  return Buffer.allocUnsafe(size);
}

/**
 * Offers a buffer from {@link takeFrame} back once nothing reads it any more; kept as the spare
 * when its whole allocation is within [MIN_SPARE_BYTES, MAX_SPARE_BYTES] and larger than the
 * current spare.
 */
export function returnFrame(frame: Buffer): void {
  const whole = frame.buffer.byteLength;
  if (whole < MIN_SPARE_BYTES || whole > MAX_SPARE_BYTES || frame.byteOffset !== 0) return;
  if (spare === undefined || spare.length < whole) spare = Buffer.from(frame.buffer, 0, whole);
}
