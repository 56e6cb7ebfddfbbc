import { expect, test } from "bun:test";
import { returnFrame, takeFrame } from "./spare-frame.ts";

test("a returned frame is reused by the next large enough take, and only by one taker at a time", () => {
  const first = takeFrame(300_000);
  expect(first.length).toBe(300_000);
  returnFrame(first);
  const again = takeFrame(200_000);
  expect(again.length).toBe(200_000);
  expect(again.buffer).toBe(first.buffer);
  // Out now: another answer meanwhile gets its own buffer.
  const other = takeFrame(200_000);
  expect(other.buffer).not.toBe(first.buffer);
  // A larger frame replaces the spare; a smaller one does not.
  returnFrame(other);
  const big = takeFrame(1_000_000);
  expect(big.buffer).not.toBe(first.buffer);
  returnFrame(big);
  returnFrame(again);
  expect(takeFrame(900_000).buffer).toBe(big.buffer);
});

test("small and very large frames are never kept", () => {
  const small = takeFrame(1_000);
  returnFrame(small);
  expect(takeFrame(1_000).buffer).not.toBe(small.buffer);
  const huge = takeFrame(9 * 1024 * 1024);
  returnFrame(huge);
  expect(takeFrame(9 * 1024 * 1024).buffer).not.toBe(huge.buffer);
});
