/**
 * The parts of Go's `strconv` whose exact output or error text etcdctl exposes: `Quote` (the `%q`
 * verb), `Unquote` (txn input), `ParseInt` and `ParseBool` (flag values and their error messages).
 */
import { decodeRune, isPrint, RUNE_ERROR, utf8 } from "./utf8.ts";

const HEX = "0123456789abcdef";

function hex(n: number, width: number): string {
  let s = "";
  for (let i = width - 1; i >= 0; i--) s += HEX[(n >> (4 * i)) & 0xf];
  return s;
}

const SHORT_ESCAPES: Record<number, string> = {
  0x07: "\\a",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x0b: "\\v",
};

/**
 * Go's `strconv.Quote` / `fmt`'s `%q` of a string or raw bytes: double-quoted, printable runes kept,
 * control and non-printable runes escaped (`\n`, `\x01`, `\u00a0`), invalid UTF-8 bytes as `\xff`.
 */
export function goQuote(value: string | Uint8Array): string {
  const bytes = typeof value === "string" ? utf8(value) : value;
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const [r, size] = decodeRune(bytes, i);
    if (size === 1 && r === RUNE_ERROR) {
      out += "\\x" + hex(bytes[i]!, 2);
    } else if (r === 0x22 || r === 0x5c) {
      out += "\\" + String.fromCharCode(r);
    } else if (isPrint(r)) {
      out += String.fromCodePoint(r);
    } else if (SHORT_ESCAPES[r]) {
      out += SHORT_ESCAPES[r];
    } else if (r < 0x20 || r === 0x7f) {
      out += "\\x" + hex(r, 2);
    } else if (r < 0x10000) {
      out += "\\u" + hex(r, 4);
    } else {
      out += "\\U" + hex(r, 8);
    }
    i += size;
  }
  return out + '"';
}

/** Thrown by the parsers below; `message` is Go's error text (e.g. `invalid syntax`). */
export class GoSyntaxError extends Error {}

const UNESCAPE: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, '"': 34 };

/**
 * Go's `strconv.Unquote` for a double-quoted or back-quoted literal, returning the decoded bytes
 * (`\xff` and octal escapes yield raw bytes, `\u` escapes UTF-8).
 * @throws GoSyntaxError `invalid syntax` for anything Go rejects.
 */
export function goUnquote(literal: string): Uint8Array {
  const q = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== q) throw new GoSyntaxError("invalid syntax");
  const body = literal.slice(1, -1);
  if (q === "`") {
    if (body.includes("`")) throw new GoSyntaxError("invalid syntax");
    return utf8(body.replaceAll("\r", ""));
  }
  if (q !== '"' || body.includes("\n")) throw new GoSyntaxError("invalid syntax");
  const out: number[] = [];
  const pushRune = (r: number) => out.push(...utf8(String.fromCodePoint(r)));
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c === '"') throw new GoSyntaxError("invalid syntax");
    if (c !== "\\") {
      const cp = body.codePointAt(i)!;
      pushRune(cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) throw new GoSyntaxError("invalid syntax");
    if (e in UNESCAPE) {
      out.push(UNESCAPE[e]!);
      i += 2;
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const digits = body.slice(i + 2, i + 2 + n);
      if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== n) throw new GoSyntaxError("invalid syntax");
      const v = parseInt(digits, 16);
      if (e === "x") out.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new GoSyntaxError("invalid syntax");
      else pushRune(v);
      i += 2 + n;
    } else if (e >= "0" && e <= "7") {
      const digits = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) throw new GoSyntaxError("invalid syntax");
      out.push(parseInt(digits, 8));
      i += 4;
    } else {
      throw new GoSyntaxError("invalid syntax");
    }
  }
  return Uint8Array.from(out);
}

const INT64_MAX = (1n << 63n) - 1n;

function numError(fn: string, s: string, reason: string): GoSyntaxError {
  return new GoSyntaxError(`strconv.${fn}: parsing ${goQuote(s)}: ${reason}`);
}

function digitValue(c: string): number {
  const code = c.toLowerCase().charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  return 99;
}

/** Go's base-0 rule: underscores only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s.length >= 1 && (s[0] === "-" || s[0] === "+")) s = s.slice(1);
  let hexPrefix = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hexPrefix = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hexPrefix && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * The unsigned part of Go's `strconv.ParseUint(s, base, 64)`: base 0 infers `0x`/`0o`/`0b`/leading-0
 * prefixes and allows underscores; a value past 2^64-1 is a range error as soon as it overflows.
 * @param fn the function named in errors (`ParseInt` or `ParseUint`); `s` the whole input for errors
 */
function parseMagnitude(fn: string, s: string, digits: string, base: number): bigint {
  let rest = digits;
  let b = base;
  let allowUnderscore = false;
  if (b === 0) {
    b = 10;
    allowUnderscore = true;
    if (rest[0] === "0") {
      const p = rest[1]?.toLowerCase();
      if (p === "x" || p === "o" || p === "b") {
        b = p === "x" ? 16 : p === "o" ? 8 : 2;
        rest = rest.slice(2);
      } else {
        b = 8;
        rest = rest.slice(1);
        if (rest === "") rest = "0";
      }
    }
  }
  if (rest === "") throw numError(fn, s, "invalid syntax");
  let value = 0n;
  let sawUnderscore = false;
  for (const c of rest) {
    if (c === "_" && allowUnderscore) {
      sawUnderscore = true;
      continue;
    }
    const d = digitValue(c);
    if (d >= b) throw numError(fn, s, "invalid syntax");
    value = value * BigInt(b) + BigInt(d);
    if (value > UINT64_MAX) throw numError(fn, s, "value out of range");
  }
  if (sawUnderscore && !underscoreOK(s)) throw numError(fn, s, "invalid syntax");
  return value;
}

/**
 * Go's `strconv.ParseInt(s, base, 64)`: optional sign; base 0 infers `0x`/`0o`/`0b`/leading-0
 * prefixes and allows underscores. Used with base 16 for lease IDs, 10 for revisions, 0 for int flags.
 * @throws GoSyntaxError `strconv.ParseInt: parsing "s": invalid syntax` or `...: value out of range`
 */
export function goParseInt(s: string, base: number): bigint {
  const negative = s[0] === "-";
  const value = parseMagnitude("ParseInt", s, s[0] === "+" || negative ? s.slice(1) : s, base);
  if (negative ? value > INT64_MAX + 1n : value > INT64_MAX) throw numError("ParseInt", s, "value out of range");
  return negative ? -value : value;
}

/**
 * Go's `strconv.ParseUint(s, base, 64)`: no sign allowed; otherwise as {@link goParseInt}. Used
 * with base 16 for member IDs (etcdctl `member remove|update|promote`, `move-leader`).
 * @throws GoSyntaxError `strconv.ParseUint: parsing "s": invalid syntax` or `...: value out of range`
 */
export function goParseUint(s: string, base: number): bigint {
  return parseMagnitude("ParseUint", s, s, base);
}

/**
 * Go's `strconv.ParseBool` (`1 t T TRUE true True` / `0 f F FALSE false False`).
 * @throws GoSyntaxError `strconv.ParseBool: parsing "x": invalid syntax`
 */
export function goParseBool(s: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  throw numError("ParseBool", s, "invalid syntax");
}
