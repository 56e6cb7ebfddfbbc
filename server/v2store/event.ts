/**
 * What the v2 store answers: an event (etcd's v2store.Event: `action`, `node`, `prevNode`) whose
 * nodes are NodeExterns (v2store/node_extern.go), and their JSON exactly as etcd's encoding/json
 * writes it: fields in Go declaration order, zero values omitted (`omitempty`), a file's `value`
 * always present (a pointer in Go), `expiration` in RFC 3339 with trailing zeros of the fraction
 * trimmed, strings escaped as Go does (`\u003c` for `<`...).
 */
import { goJsonString } from "../../cli/go/json.ts";

/** etcd's v2 actions (v2store/event.go). */
export type V2Action = "get" | "create" | "set" | "update" | "delete" | "compareAndSwap" | "compareAndDelete" | "expire";

/** A node as answered (etcd's NodeExtern); `key` "/" is the root (written without a key). */
export interface NodeExtern {
  key: string;
  /** A file's value; undefined for a directory. */
  value?: string;
  dir?: boolean;
  /** Expiry time, epoch ms (absent: permanent). */
  expirationMs?: number;
  /** Seconds left, rounded up (etcd's expirationAndTTL); 0 is omitted. */
  ttl?: number;
  nodes?: NodeExtern[];
  modifiedIndex: number;
  createdIndex: number;
}

/** An applied request's or a watch's event; `etcdIndex` is the store index (X-Etcd-Index). */
export interface V2Event {
  action: V2Action;
  node: NodeExtern;
  prevNode?: NodeExtern;
  etcdIndex: number;
  /** A TTL refresh: kept in history but never delivered to watchers (etcd's Event.Refresh). */
  refresh?: boolean;
  /**
   * `eventJson(e)`, once it was built for the event's record in `v2_events` (server/v2store/tables.ts):
   * the answer reuses it. Set only when the event is complete (nothing changes it afterwards).
   */
  json?: string;
}

/** The index of an event (its node's modifiedIndex, as etcd's Event.Index). */
export function eventIndex(e: V2Event): number {
  return e.node.modifiedIndex;
}

/** True when the event created its key (201 Created): `create`, or `set` with no previous node. */
export function isCreated(e: V2Event): boolean {
  return e.action === "create" || (e.action === "set" && e.prevNode === undefined);
}

/** Go's RFC3339Nano of an epoch-ms time in UTC: `2026-12-06T03:30:40.591Z`, `...:40Z` on a whole second. */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return iso.slice(0, 19) + (frac ? "." + frac : "") + "Z";
}

/**
 * A NodeExtern as etcd's JSON (`{"key":...,"value":...,"modifiedIndex":...,"createdIndex":...}`),
 * concatenated field by field (no array of parts to join: built for every answer and record),
 * each field after the first with its comma (no slice of the result, which would copy it whole
 * before the answer's encoding copies it again).
 */
export function nodeJson(n: NodeExtern): string {
  let out = "{";
  let sep = "";
  if (n.key !== "/" && n.key !== "") {
    out += `"key":${goJsonString(n.key)}`;
    sep = ",";
  }
  if (n.value !== undefined) {
    out += `${sep}"value":${goJsonString(n.value)}`;
    sep = ",";
  }
  if (n.dir) {
    out += `${sep}"dir":true`;
    sep = ",";
  }
  if (n.expirationMs !== undefined) {
    out += `${sep}"expiration":"${rfc3339Nano(n.expirationMs)}"`;
    sep = ",";
  }
  if (n.ttl) {
    out += `${sep}"ttl":${n.ttl}`;
    sep = ",";
  }
  if (n.nodes && n.nodes.length > 0) {
    out += `${sep}"nodes":[${n.nodes.map(nodeJson).join(",")}]`;
    sep = ",";
  }
  if (n.modifiedIndex) {
    out += `${sep}"modifiedIndex":${n.modifiedIndex}`;
    sep = ",";
  }
  if (n.createdIndex) out += `${sep}"createdIndex":${n.createdIndex}`;
  return out + "}";
}

/**
 * An event as etcd's JSON, without the trailing newline its json.Encoder adds. `refresh` is
 * never written: etcd answers a clone of the event, and Event.Clone drops it.
 */
export function eventJson(e: V2Event, noValue = false): string {
  if (!noValue && e.json !== undefined) return e.json;
  let out = `{"action":"${e.action}"`;
  if (!noValue) {
    out += `,"node":${nodeJson(e.node)}`;
    if (e.prevNode) out += `,"prevNode":${nodeJson(e.prevNode)}`;
  }
  return out + "}";
}

/** A node of {@link eventFromJson}'s input: etcd's JSON (`expiration` in RFC 3339) or an older record's (`expirationMs`). */
interface NodeRecord {
  key?: string;
  value?: string;
  dir?: boolean;
  expiration?: string;
  expirationMs?: number;
  ttl?: number;
  nodes?: NodeRecord[];
  modifiedIndex?: number;
  createdIndex?: number;
}

function nodeFromJson(n: NodeRecord): NodeExtern {
  const out: NodeExtern = { key: n.key ?? "/", modifiedIndex: n.modifiedIndex ?? 0, createdIndex: n.createdIndex ?? 0 };
  if (n.value !== undefined) out.value = n.value;
  if (n.dir) out.dir = true;
  if (n.expiration !== undefined) out.expirationMs = Date.parse(n.expiration);
  else if (n.expirationMs !== undefined) out.expirationMs = n.expirationMs;
  if (n.ttl !== undefined) out.ttl = n.ttl;
  if (n.nodes) out.nodes = n.nodes.map(nodeFromJson);
  return out;
}

/**
 * The event of `text` with its `etcdIndex`: {@link eventJson}'s JSON (the expiry back in epoch ms,
 * exact since etcd's RFC 3339 has at most its milliseconds), or the JSON.stringify form of an event
 * (`expirationMs`, `refresh`) that older records and TTL refreshes are kept in.
 * @throws SyntaxError for text that is not JSON
 */
export function eventFromJson(text: string, etcdIndex: number): V2Event {
  const o = JSON.parse(text) as { action: V2Action; node: NodeRecord; prevNode?: NodeRecord; refresh?: boolean };
  const e: V2Event = { action: o.action, node: nodeFromJson(o.node), etcdIndex };
  if (o.prevNode) e.prevNode = nodeFromJson(o.prevNode);
  if (o.refresh) e.refresh = true;
  return e;
}
