/**
 * Field values of a gateway request as etcd 3.4's grpc-gateway reads them (golang/protobuf jsonpb
 * 1.3 over Go's encoding/json), checked before protobuf-es decodes the request, so a value Go
 * refuses gets Go's error text and one Go accepts is handed on in a form protobuf-es reads:
 * - bytes: standard base64 with padding (Go's `illegal base64 data at input byte N`, byte offsets
 *   as base64.StdEncoding reports them), or an array of numbers 0..255 (re-encoded as base64);
 *   other JSON kinds fail with `json: cannot unmarshal number into Go value of type []uint8`;
 * - integers (int64, uint64, int32, uint32...): a number, or a string whose text is one (jsonpb
 *   strips the quotes and parses the rest as JSON: `invalid character 'x' looking for beginning
 *   of value`, `json: cannot unmarshal number 1.5 into Go value of type int64`);
 * - bool and string fields: `json: cannot unmarshal string into Go value of type bool`...;
 * - nested messages and repeated fields are walked the same way (non-objects:
 *   `json: cannot unmarshal array into Go value of type map[string]json.RawMessage`, non-arrays:
 *   `... into Go value of type []json.RawMessage`).
 * Fields are visited in declaration order (jsonpb walks the Go struct), `null` means unset, and
 * the original proto name wins over the lowerCamelCase one. Enums and unknown fields are left to
 * the caller.
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { goJsonSyntaxError } from "./go-json-syntax.ts";

/** A request value Go refuses, with Go's message. */
export class GoJsonFieldError extends Error {}

/** Go's name for the JSON kind of `v` in UnmarshalTypeError. */
function kind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v; // number, string
}

function cannot(what: string, goType: string): GoJsonFieldError {
  return new GoJsonFieldError(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
}

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** base64.StdEncoding.Decode's error offset for `s`, or undefined when Go decodes it. */
export function goBase64ErrorOffset(s: string): number | undefined {
  let si = 0;
  const isNewline = (c: string | undefined) => c === "\n" || c === "\r";
  while (si < s.length) {
    for (let j = 0; j < 4; j++) {
      if (si === s.length) {
        if (j === 0) return undefined;
        return si - j;
      }
      const c = s[si++]!;
      if (STD.includes(c)) continue;
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== "=") return si - 1;
      if (j < 2) return si - 1;
      if (j === 2) {
        while (si < s.length && isNewline(s[si])) si++;
        if (si === s.length) return s.length;
        if (s[si] !== "=") return si - 1;
        si++;
      }
      while (si < s.length && isNewline(s[si])) si++;
      return si < s.length ? si : undefined;
    }
  }
  return undefined;
}

/** Integer limits and Go type names of the integer scalars. */
const INTEGERS: Partial<Record<ScalarType, { goType: string; min: bigint; max: bigint }>> = {
  [ScalarType.INT64]: { goType: "int64", min: -(1n << 63n), max: (1n << 63n) - 1n },
  [ScalarType.SINT64]: { goType: "int64", min: -(1n << 63n), max: (1n << 63n) - 1n },
  [ScalarType.SFIXED64]: { goType: "int64", min: -(1n << 63n), max: (1n << 63n) - 1n },
  [ScalarType.UINT64]: { goType: "uint64", min: 0n, max: (1n << 64n) - 1n },
  [ScalarType.FIXED64]: { goType: "uint64", min: 0n, max: (1n << 64n) - 1n },
  [ScalarType.INT32]: { goType: "int32", min: -(1n << 31n), max: (1n << 31n) - 1n },
  [ScalarType.SINT32]: { goType: "int32", min: -(1n << 31n), max: (1n << 31n) - 1n },
  [ScalarType.SFIXED32]: { goType: "int32", min: -(1n << 31n), max: (1n << 31n) - 1n },
  [ScalarType.UINT32]: { goType: "uint32", min: 0n, max: (1n << 32n) - 1n },
  [ScalarType.FIXED32]: { goType: "uint32", min: 0n, max: (1n << 32n) - 1n },
};

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/;

/** json.Unmarshal of the text `t` (a quoted integer's content) into an integer of `spec`. */
function checkIntegerText(t: string, spec: { goType: string; min: bigint; max: bigint }): void {
  const text = t.replace(/^[ \t\n\r]+/, "");
  if (text === "") throw new GoJsonFieldError("unexpected end of JSON input");
  const m = JSON_NUMBER.exec(text);
  if (!m) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // json.Unmarshal ends a value cut short by stepping its scanner with a space (scanner.eof).
      const syntax = goJsonSyntaxError(`${text} `);
      throw new GoJsonFieldError(syntax === undefined || syntax === "unexpected EOF" ? "unexpected end of JSON input" : syntax);
    }
    throw cannot(kind(parsed), spec.goType);
  }
  const rest = text.slice(m[0].length).replace(/[ \t\n\r]+$/, "");
  if (rest !== "") throw new GoJsonFieldError(`invalid character '${rest[0]}' after top-level value`);
  checkIntegerLiteral(m[0], spec);
}

function checkIntegerLiteral(literal: string, spec: { goType: string; min: bigint; max: bigint }): void {
  if (!/^-?\d+$/.test(literal)) throw cannot(`number ${literal}`, spec.goType);
  const n = BigInt(literal);
  if (n < spec.min || n > spec.max) throw cannot(`number ${literal}`, spec.goType);
}

/** Checks one scalar value; returns the value to hand to protobuf-es. */
function scalar(type: ScalarType, v: unknown): unknown {
  if (type === ScalarType.BYTES) {
    if (typeof v === "string") {
      const at = goBase64ErrorOffset(v);
      if (at !== undefined) throw new GoJsonFieldError(`illegal base64 data at input byte ${at}`);
      return v;
    }
    if (Array.isArray(v)) {
      for (const b of v) {
        if (typeof b !== "number") throw cannot(kind(b), "uint8");
        if (!Number.isInteger(b) || b < 0 || b > 255) throw cannot(`number ${b}`, "uint8");
      }
      return Buffer.from(v as number[]).toString("base64");
    }
    throw cannot(kind(v), "[]uint8");
  }
  const integer = INTEGERS[type];
  if (integer) {
    if (typeof v === "string") checkIntegerText(v, integer);
    else if (typeof v === "number") checkIntegerLiteral(String(v), integer);
    else throw cannot(kind(v), integer.goType);
    return v;
  }
  if (type === ScalarType.BOOL && typeof v !== "boolean") throw cannot(kind(v), "bool");
  if (type === ScalarType.STRING && typeof v !== "string") throw cannot(kind(v), "string");
  return v;
}

/** Checks one field's value (not null); returns the value to hand to protobuf-es. */
function fieldValue(field: DescField, v: unknown): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar, v);
    case "message":
      return goCheckMessage(field.message, v);
    case "list": {
      if (!Array.isArray(v)) throw cannot(kind(v), "[]json.RawMessage");
      if (field.listKind === "scalar") return v.map((el) => scalar(field.scalar, el));
      if (field.listKind === "message") return v.map((el) => (el === null ? el : goCheckMessage(field.message, el)));
      return v;
    }
    default:
      return v;
  }
}

/**
 * Checks `value` (parsed JSON) as a `schema` message the way jsonpb reads it and returns a copy
 * that protobuf-es decodes to the same message (byte arrays turned into base64).
 * @throws GoJsonFieldError with Go's message for the first field (in declaration order) Go refuses
 */
export function goCheckMessage(schema: DescMessage, value: unknown): unknown {
  if (value === null) return value;
  if (typeof value !== "object" || Array.isArray(value)) throw cannot(kind(value), "map[string]json.RawMessage");
  const obj = { ...(value as Record<string, unknown>) };
  for (const field of schema.fields) {
    const name = field.name in obj ? field.name : field.jsonName in obj ? field.jsonName : undefined;
    if (name === undefined || obj[name] === null) continue;
    obj[name] = fieldValue(field, obj[name]);
  }
  return obj;
}
