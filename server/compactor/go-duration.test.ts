import { expect, test } from "bun:test";
import { formatGoDuration, parseGoDuration } from "./go-duration.ts";

test("parseGoDuration reads Go's syntax and fails with Go's texts", () => {
  expect(parseGoDuration("1h")).toBe(3600e9);
  expect(parseGoDuration("1h30m")).toBe(5400e9);
  expect(parseGoDuration("1.5h")).toBe(5400e9);
  expect(parseGoDuration("300ms")).toBe(300e6);
  expect(parseGoDuration("2s500ms")).toBe(2.5e9);
  expect(parseGoDuration("0")).toBe(0);
  expect(parseGoDuration("10µs")).toBe(10e3);
  expect(() => parseGoDuration("abc")).toThrow('time: invalid duration "abc"');
  expect(() => parseGoDuration("")).toThrow('time: invalid duration ""');
  expect(() => parseGoDuration("1.5")).toThrow('time: missing unit in duration "1.5"');
  expect(() => parseGoDuration("5x")).toThrow('time: unknown unit "x" in duration "5x"');
});

test("formatGoDuration prints as Duration.String()", () => {
  expect(formatGoDuration(0)).toBe("0s");
  expect(formatGoDuration(2e9)).toBe("2s");
  expect(formatGoDuration(3600e9)).toBe("1h0m0s");
  expect(formatGoDuration(360e9)).toBe("6m0s");
  expect(formatGoDuration(90e9)).toBe("1m30s");
  expect(formatGoDuration(2007962116)).toBe("2.007962116s");
  expect(formatGoDuration(7591)).toBe("7.591µs");
  expect(formatGoDuration(500e6)).toBe("500ms");
  expect(formatGoDuration(100)).toBe("100ns");
  expect(formatGoDuration(5400.5e9)).toBe("1h30m0.5s");
});
