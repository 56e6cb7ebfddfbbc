/**
 * The Go formatting helpers against outputs of Go's standard library and go-humanize (values seen
 * in etcdctl output or fixed by the Go documentation).
 */
import { describe, expect, test } from "bun:test";
import { goDurationString, goParseDuration } from "./duration.ts";
import { humanizeBytes } from "./humanize.ts";
import { goCamelCase, goJsonFloat, goJsonString } from "./json.ts";
import { goParseBool, goParseInt, goQuote, goUnquote } from "./strconv.ts";

describe("strconv", () => {
  test("Quote escapes like %q, keeping printable Unicode and showing invalid bytes as \\x", () => {
    expect(goQuote(Uint8Array.of(0x76, 0x01, 0xff))).toBe('"v\\x01\\xff"');
    expect(goQuote("é ✓")).toBe('"é ✓"');
    expect(goQuote("\u00a0\n\t\x7f\"\\")).toBe('"\\u00a0\\n\\t\\x7f\\"\\\\"');
    expect(goQuote("\u{1F600}\u{E0001}")).toBe('"\u{1F600}\\U000e0001"');
  });

  test("Unquote decodes Go escapes to bytes and rejects bad ones", () => {
    expect([...goUnquote('"a\\x41\\u00e9\\101\\xff"')]).toEqual([0x61, 0x41, 0xc3, 0xa9, 0x41, 0xff]);
    expect(new TextDecoder().decode(goUnquote("`raw\\n`"))).toBe("raw\\n");
    expect(() => goUnquote('"\\q"')).toThrow("invalid syntax");
    expect(() => goUnquote("\"\\'\"")).toThrow("invalid syntax");
  });

  test("ParseInt handles bases, prefixes, underscores and range like Go", () => {
    expect(goParseInt("1e5", 16)).toBe(0x1e5n);
    expect(goParseInt("0x10", 0)).toBe(16n);
    expect(goParseInt("010", 0)).toBe(8n);
    expect(goParseInt("1_000", 0)).toBe(1000n);
    expect(goParseInt("-9223372036854775808", 10)).toBe(-(2n ** 63n));
    expect(() => goParseInt("zz", 16)).toThrow('strconv.ParseInt: parsing "zz": invalid syntax');
    expect(() => goParseInt("0x10", 16)).toThrow("invalid syntax");
    expect(() => goParseInt("1_000", 10)).toThrow("invalid syntax");
    expect(() => goParseInt("", 10)).toThrow('strconv.ParseInt: parsing "": invalid syntax');
    expect(() => goParseInt("9223372036854775808", 10)).toThrow("value out of range");
  });

  test("ParseBool accepts Go's spellings only", () => {
    expect([goParseBool("t"), goParseBool("TRUE"), goParseBool("0")]).toEqual([true, true, false]);
    expect(() => goParseBool("yes")).toThrow('strconv.ParseBool: parsing "yes": invalid syntax');
  });
});

describe("time.Duration", () => {
  test("String", () => {
    const cases: Array<[bigint, string]> = [
      [0n, "0s"],
      [999n, "999ns"],
      [1500n, "1.5µs"],
      [1_421_555n, "1.421555ms"],
      [5_000_986_618n, "5.000986618s"],
      [90_000_000_000n, "1m30s"],
      [3_600_000_000_000n, "1h0m0s"],
      [-2_000_000n, "-2ms"],
    ];
    for (const [ns, text] of cases) expect(goDurationString(ns)).toBe(text);
  });

  test("ParseDuration returns milliseconds and Go's errors", () => {
    expect([goParseDuration("2s"), goParseDuration("500ms"), goParseDuration("1m30s"), goParseDuration("1.5h")]).toEqual([
      2000, 500, 90_000, 5_400_000,
    ]);
    expect([goParseDuration("0"), goParseDuration("250us"), goParseDuration("-1s")]).toEqual([0, 0.25, -1000]);
    expect(() => goParseDuration("abc")).toThrow('time: invalid duration "abc"');
    expect(() => goParseDuration("5")).toThrow('time: missing unit in duration "5"');
    expect(() => goParseDuration("5x")).toThrow('time: unknown unit "x" in duration "5x"');
  });
});

describe("go-humanize Bytes", () => {
  test("SI units, one decimal below 10, Go's half-to-even %.0f", () => {
    const cases: Array<[number, string]> = [
      [0, "0 B"],
      [9, "9 B"],
      [10, "10 B"],
      [999, "999 B"],
      [1000, "1.0 kB"],
      [1500, "1.5 kB"],
      [9950, "10 kB"],
      [20480, "20 kB"],
      [20500, "20 kB"],
      [21500, "22 kB"],
      [1_234_567, "1.2 MB"],
      [2_147_483_648, "2.1 GB"],
    ];
    for (const [n, text] of cases) expect(humanizeBytes(n)).toBe(text);
  });
});

describe("encoding/json", () => {
  test("float64 as Go's encoder writes it: plain between 1e-6 and 1e21, else exponent with e-7 (not e-07)", () => {
    expect([0, 1, 0.5, 1234.5678, 1e-6, 1e20].map(goJsonFloat)).toEqual(["0", "1", "0.5", "1234.5678", "0.000001", "100000000000000000000"]);
    expect([1e-7, 2.5e-8, 3e-300, 1.5e21, -1e22].map(goJsonFloat)).toEqual(["1e-7", "2.5e-8", "3e-300", "1.5e+21", "-1e+22"]);
  });

  test("strings are HTML-escaped and control characters use \\u00XX", () => {
    expect(goJsonString('<a&b>"\\\n\b\u2028é')).toBe('"\\u003ca\\u0026b\\u003e\\"\\\\\\n\\u0008\\u2028é"');
  });

  test("gogo struct field names are CamelCase of the proto names", () => {
    expect([goCamelCase("response_put"), goCamelCase("response"), goCamelCase("target_union")]).toEqual([
      "ResponsePut",
      "Response",
      "TargetUnion",
    ]);
  });
});
