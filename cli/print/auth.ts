/**
 * Text of etcdctl 3.4's simple-format answers to `role get` and `role revoke-permission`
 * (`printer_simple.go`): keys and range ends printed as raw bytes, `\x00` as a range end meaning
 * "open ended", and `(prefix <key>)` when the range end is clientv3's prefix end of the key.
 */
import type { AuthRoleGetResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Permission_Type, type Permission } from "../../proto/gen/authpb/auth_pb.ts";
import { prefixEnd } from "../commands/kv-requests.ts";
import type { Chunk } from "../output.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const isOpenEnd = (end: Uint8Array) => end.length === 1 && end[0] === 0;

/** One permission line: `\t<key>`, `\t[<key>, <end>)` or `\t[<key>, <open ended>`, then ` (prefix <key>)` if it is one. */
function permissionLine(p: Permission): Chunk[] {
  if (p.rangeEnd.length === 0) return ["\t", p.key];
  const parts: Chunk[] = isOpenEnd(p.rangeEnd) ? ["\t[", p.key, ", <open ended>"] : ["\t[", p.key, ", ", p.rangeEnd, ")"];
  if (sameBytes(prefixEnd(p.key), p.rangeEnd)) parts.push(" (prefix ", p.key, ")");
  return parts;
}

/**
 * `Role <name>`, `KV Read:` with the READ and READWRITE permissions, `KV Write:` with the WRITE
 * and READWRITE ones, each in the server's order; one array of chunks per line.
 */
export function roleGetLines(role: string, r: AuthRoleGetResponse): Chunk[][] {
  const lines: Chunk[][] = [[`Role ${role}`], ["KV Read:"]];
  for (const p of r.perm) if (p.permType === Permission_Type.READ || p.permType === Permission_Type.READWRITE) lines.push(permissionLine(p));
  lines.push(["KV Write:"]);
  for (const p of r.perm) if (p.permType === Permission_Type.WRITE || p.permType === Permission_Type.READWRITE) lines.push(permissionLine(p));
  return lines;
}

/**
 * `Permission of key <key> is revoked from role <role>`, or of range `[<key>, <end>)` /
 * `[<key>, <open ended>` when a range end was sent.
 */
export function revokedPermissionLine(role: string, key: string, end: Uint8Array): Chunk[] {
  if (end.length === 0) return [`Permission of key ${key} is revoked from role ${role}`];
  if (!isOpenEnd(end)) return [`Permission of range [${key}, `, end, `) is revoked from role ${role}`];
  return [`Permission of range [${key}, <open ended> is revoked from role ${role}`];
}
