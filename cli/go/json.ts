/**
 * Go `encoding/json` output of etcd's gogoproto response structs, as printed by `etcdctl -w json`
 * (`ctlv3/command/printer_json.go` marshals the Go structs, not protobuf JSON).
 *
 * Rules reproduced: keys are the proto field names (gogo's `json:"<name>,omitempty"` tags) in
 * declaration order; zero scalars, empty bytes/lists and unset messages are omitted; int64/uint64
 * are bare JSON numbers printed exactly (never via JS Number); bytes are standard padded base64;
 * enums are numbers; a set oneof becomes `"<GoOneofName>":{"<GoFieldName>":value}`; strings use
 * Go's escaping with HTML-safe `\u003c \u003e \u0026` and `\u2028 \u2029`.
 */
import { ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";

const HEX = "0123456789abcdef";

/** Any character goJsonString escapes or replaces (control, `"`, `\\`, `<>&`, U+2028/9, lone surrogate halves). */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

/** A JSON string literal exactly as Go's `encoding/json` (with `SetEscapeHTML(true)`) writes it. */
export function goJsonString(s: string): string {
  // Most strings (keys, values) need no escape: one regex test instead of a per-code-point loop.
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) out += "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
    else if (c === 0x2028 || c === 0x2029) out += "\\u202" + HEX[c & 0xf];
    else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd";
    else out += ch;
  }
  return out + '"';
}

/**
 * Go's encoding/json text of a float64: the shortest round-trip form, in exponent form below
 * 1e-6 and from 1e21 up, where Go cleans `e-09` to `e-9` (encoding/json floatEncoder), which is
 * what JavaScript's toExponential prints too (`1e-7`, `1.5e+21`). NaN and ±Inf: Go refuses them
 * (UnsupportedValueError); callers must not pass them.
 */
export function goJsonFloat(x: number): string {
  const abs = Math.abs(x);
  return abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? x.toExponential() : String(x);
}

/** Go's CamelCase of a proto name, as gogo names struct fields (`response_put` -> `ResponsePut`). */
export function goCamelCase(name: string): string {
  return name
    .split("_")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

function isZeroScalar(value: unknown): boolean {
  if (value instanceof Uint8Array) return value.length === 0;
  return value === undefined || value === 0 || value === 0n || value === false || value === "";
}

function scalarJson(type: ScalarType, value: unknown): string {
  switch (type) {
    case ScalarType.STRING:
      return goJsonString(value as string);
    case ScalarType.BYTES:
      return `"${base64Encode(value as Uint8Array, "std")}"`;
    case ScalarType.BOOL:
      return value ? "true" : "false";
    default:
      // Integers (bigint or number) print exactly; floats do not occur in etcd's API.
      return String(value);
  }
}

function fieldValueJson(field: DescField, value: unknown): string {
  switch (field.fieldKind) {
    case "scalar":
      return scalarJson(field.scalar, value);
    case "enum":
      return String(value);
    case "message":
      return goJsonMessage(field.message, value as Message);
    case "list": {
      const items = value as unknown[];
      const parts = items.map((item) => {
        if (field.listKind === "message") return goJsonMessage(field.message, item as Message);
        if (field.listKind === "enum") return String(item);
        return scalarJson(field.scalar, item);
      });
      return `[${parts.join(",")}]`;
    }
    case "map":
      throw new Error(`map field ${field.name} has no Go JSON form here`);
  }
}

/** True when Go's `omitempty` drops the field (zero scalar, empty list, nil message). */
function omitted(field: DescField, value: unknown): boolean {
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
      return isZeroScalar(value);
    case "message":
      return value === undefined;
    case "list":
      return (value as unknown[]).length === 0;
    case "map":
      return Object.keys(value as object).length === 0;
  }
}

/**
 * Encodes a protobuf-es message like Go's `json.Marshal` of the matching gogoproto struct.
 * @param desc the message schema (e.g. `RangeResponseSchema`)
 * @param msg the message; unknown fields are ignored as Go's struct has no place for them
 */
export function goJsonMessage(desc: DescMessage, msg: Message): string {
  const record = msg as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      const selected = record[member.localName] as { case?: string; value?: unknown };
      const field = member.fields.find((f) => f.localName === selected.case);
      if (!field) continue;
      const inner = `{${goJsonString(goCamelCase(field.name))}:${fieldValueJson(field, selected.value)}}`;
      parts.push(`${goJsonString(goCamelCase(member.name))}:${inner}`);
      continue;
    }
    const value = record[member.localName];
    if (omitted(member, value)) continue;
    parts.push(`${goJsonString(member.name)}:${fieldValueJson(member, value)}`);
  }
  return `{${parts.join(",")}}`;
}
