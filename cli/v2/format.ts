/**
 * etcdctl v2's `printResponseKey` (`ctlv2/command/format.go`): `simple` prints the value (or
 * `PrevNode.Value: ...` for a delete), `extended` an RFC 2822-like block, `json` Go's
 * `json.Marshal` of `client.Response` (fields `action`, `node`, `prevNode` in that order; a node's
 * `nodes` is `null` when absent; `dir`, `expiration` and `ttl` only when set).
 */
import { goJsonString } from "../go/json.ts";
import type { Output } from "../output.ts";
import type { V2Node, V2Response } from "./keys.ts";

/** Go's json.Marshal of a `*client.Node`. */
export function nodeJson(n: V2Node | undefined): string {
  if (!n) return "null";
  let s = `{"key":${goJsonString(n.key)}`;
  if (n.dir) s += `,"dir":true`;
  s += `,"value":${goJsonString(n.value)}`;
  s += `,"nodes":${n.nodes ? `[${n.nodes.map(nodeJson).join(",")}]` : "null"}`;
  s += `,"createdIndex":${n.createdIndex},"modifiedIndex":${n.modifiedIndex}`;
  if (n.expiration !== undefined) s += `,"expiration":${goJsonString(n.expiration)}`;
  if (n.ttl) s += `,"ttl":${n.ttl}`;
  return s + "}";
}

/** Go's json.Marshal of a `*client.Response`. */
export function responseJson(r: V2Response): string {
  return `{"action":${goJsonString(r.action)},"node":${nodeJson(r.node)},"prevNode":${nodeJson(r.prevNode)}}`;
}

/** printResponseKey with `-o <format>`; an unknown format is reported on stderr (exit status unchanged). */
export function printResponseKey(out: Output, r: V2Response, format: string): void {
  const node = r.node!;
  switch (format) {
    case "simple":
      if (r.action !== "delete") out.println(node.value);
      else out.println("PrevNode.Value: ", r.prevNode?.value ?? "");
      return;
    case "extended":
      out.println(`Key: ${node.key}`);
      out.println(`Created-Index: ${node.createdIndex}`);
      out.println(`Modified-Index: ${node.modifiedIndex}`);
      if (r.prevNode) out.println(`PrevNode.Value: ${r.prevNode.value}`);
      out.println(`TTL: ${node.ttl}`);
      out.println(`Index: ${r.index}`);
      if (r.action !== "delete") {
        out.println("");
        out.println(node.value);
      }
      return;
    case "json":
      out.println(responseJson(r));
      return;
    default:
      out.eprintln(`Unsupported output format: ${format}`);
  }
}
