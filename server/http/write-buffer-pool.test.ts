import { describe, expect, test } from "bun:test";
import { MAX_FREE_BYTES, MAX_FREE_BYTES_PER_CLASS, MAX_POOLED_BYTES, MIN_BUFFER_BYTES, WriteBufferPool } from "./write-buffer-pool.ts";

describe("WriteBufferPool", () => {
  test("a released buffer is handed out again; one still in use is not", () => {
    const pool = new WriteBufferPool();
    const a = pool.take(100);
    expect(a.bytes.length).toBe(100);
    const b = pool.take(100);
    expect(b.bytes.buffer).not.toBe(a.bytes.buffer);
    a.release();
    a.release(); // a second release is ignored, not a second free entry
    expect(pool.freeCounts()).toEqual([1]);
    const c = pool.take(MIN_BUFFER_BYTES);
    expect(c.bytes.buffer).toBe(a.bytes.buffer);
    expect(c.bytes.length).toBe(MIN_BUFFER_BYTES);
    expect(c.bytes.byteOffset).toBe(a.bytes.byteOffset);
    expect(pool.freeCounts()).toEqual([0]);
  });

  test("sizes go to power-of-two classes; larger than the largest class is never kept", () => {
    const pool = new WriteBufferPool();
    const mid = pool.take(MIN_BUFFER_BYTES + 1);
    expect(mid.bytes.length).toBe(MIN_BUFFER_BYTES + 1);
    mid.release();
    expect(pool.freeCounts()).toEqual([0, 1]);
    const huge = pool.take(MAX_POOLED_BYTES + 1);
    expect(huge.bytes.length).toBe(MAX_POOLED_BYTES + 1);
    huge.release();
    expect(pool.freeCounts().reduce((a, b) => a + b, 0)).toBe(1);
  });

  test("keeps at most MAX_FREE_BYTES_PER_CLASS of free buffers per class, but one of a larger class", () => {
    const pool = new WriteBufferPool();
    const n = MAX_FREE_BYTES_PER_CLASS / MIN_BUFFER_BYTES + 10;
    const taken = Array.from({ length: n }, () => pool.take(10));
    for (const t of taken) t.release();
    expect(pool.freeCounts()).toEqual([MAX_FREE_BYTES_PER_CLASS / MIN_BUFFER_BYTES]);
    const large = [pool.take(MAX_POOLED_BYTES), pool.take(MAX_POOLED_BYTES)];
    for (const t of large) t.release();
    expect(pool.freeCounts().at(-1)).toBe(1);
  });

  test("keeps at most MAX_FREE_BYTES of free buffers in all", () => {
    const pool = new WriteBufferPool();
    const sizes = [MAX_POOLED_BYTES, MAX_POOLED_BYTES / 2, MAX_POOLED_BYTES / 4, MAX_POOLED_BYTES / 8, MAX_POOLED_BYTES / 16];
    const taken = sizes.flatMap((s) => [pool.take(s), pool.take(s)]);
    for (const t of taken) t.release();
    const counts = pool.freeCounts();
    const kept = counts.reduce((sum, k, c) => sum + k * (MIN_BUFFER_BYTES << c), 0);
    expect(kept).toBeLessThanOrEqual(MAX_FREE_BYTES);
    expect(kept).toBeGreaterThan(MAX_FREE_BYTES - MAX_POOLED_BYTES);
    // What is taken again no longer counts: the room is there for the next release.
    const again = pool.take(MAX_POOLED_BYTES);
    again.release();
    expect(pool.freeCounts().at(-1)).toBe(1);
  });
});
