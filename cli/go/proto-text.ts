/**
 * Go's gogoproto compact text form (`String()`, `%+v` / `%v` of a message) of the messages that
 * etcd and etcdctl print that way. Shared by the server (Status errors) and etcdctl (`alarm list`).
 */
import type { DescEnum, DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import { AlarmType, type AlarmMember } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/**
 * An AlarmMember as etcd 3.4 prints it: `memberID:<decimal> alarm:<NAME> ` (trailing space;
 * zero fields left out, as the text format does). Source: etcdserver/api/v3rpc/maintenance.go
 * Status, etcdctl/ctlv3/command/printer_simple.go Alarm.
 */
export function alarmMemberText(m: AlarmMember): string {
  let s = "";
  if (m.memberID !== 0n) s += `memberID:${m.memberID} `;
  if (m.alarm !== AlarmType.NONE) s += `alarm:${AlarmType[m.alarm] ?? m.alarm} `;
  return s;
}

/**
 * Go's `proto.CompactTextString` of any message (golang/protobuf 1.3 text marshaler, as etcd's
 * gogoproto `String()` methods call it): fields in declaration order, each written as
 * `name:value ` with a trailing space; proto3 zero values, empty lists and unset messages left
 * out; strings and bytes double-quoted with `\n \r \t \" \\` and octal `\ooo` for every byte
 * outside printable ASCII; enums by value name; nested messages as `name:<...> `. Maps are not
 * used by etcd's request messages and are left out.
 */
export function compactText<Desc extends DescMessage>(schema: Desc, msg: MessageShape<Desc>): string {
  const m = msg as unknown as Record<string, unknown>;
  let out = "";
  for (const field of schema.fields) {
    let value: unknown;
    if (field.oneof) {
      const sel = m[field.oneof.localName] as { case?: string; value?: unknown };
      if (sel.case !== field.localName) continue;
      value = sel.value;
    } else {
      value = m[field.localName];
    }
    switch (field.fieldKind) {
      case "list":
        for (const v of value as unknown[]) out += `${field.name}:${textValue(field.listKind, field, v)} `;
        break;
      case "map":
        break;
      case "message":
        if (value !== undefined) out += `${field.name}:${textValue("message", field, value)} `;
        break;
      default:
        if (field.oneof || !isZero(value)) out += `${field.name}:${textValue(field.fieldKind, field, value)} `;
    }
  }
  return out;
}

function isZero(v: unknown): boolean {
  if (v instanceof Uint8Array || typeof v === "string") return v.length === 0;
  return v === 0 || v === 0n || v === false || v === undefined;
}

function textValue(kind: "scalar" | "enum" | "message", field: DescField, v: unknown): string {
  if (kind === "message") return `<${compactText((field as { message: DescMessage }).message, v as never)}>`;
  if (kind === "enum") {
    const e = (field as { enum: DescEnum }).enum;
    return e.values.find((x) => x.number === v)?.name ?? String(v);
  }
  if (typeof v === "string") return textQuote(new TextEncoder().encode(v));
  if (v instanceof Uint8Array) return textQuote(v);
  return String(v);
}

const TEXT_ESCAPES: Record<number, string> = { 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x22: '\\"', 0x5c: "\\\\" };

/** The text format's quoting of a string or bytes field (golang/protobuf text.go writeString): byte-wise, octal escapes. */
export function textQuote(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (TEXT_ESCAPES[b]) out += TEXT_ESCAPES[b];
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\" + b.toString(8).padStart(3, "0");
  }
  return out + '"';
}
