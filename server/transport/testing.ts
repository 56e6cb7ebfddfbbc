/**
 * Test helpers for the peer transport: a transport on a loopback port with every callback recorded,
 * message builders and a polling wait. Not used by production code.
 */
import { waitFor } from "../http/test-util.ts";
import { createLogger } from "../log.ts";
import { MessageType, makeMessage, type Message } from "../raft/types.ts";
import type { MemberRecord } from "../storage/members.ts";
import { startPeerTransport } from "./transport.ts";
import type { PeerTransport, PeerTransportOptions } from "./types.ts";

/** A started transport and what its callbacks received. */
export interface RecordedTransport {
  id: bigint;
  t: PeerTransport;
  /** Messages delivered by onMessage, in order. */
  got: Message[];
  unreachable: bigint[];
  snapshots: Array<[bigint, boolean]>;
  removedBy: bigint[];
  /** Parsed JSON log lines. */
  logs: Array<Record<string, unknown>>;
}

/** Starts a transport for member `id` on 127.0.0.1 port 0 (or `overrides.listenPeerUrls`), cluster 1 unless overridden. */
export async function recordedTransport(
  id: bigint,
  overrides: Partial<PeerTransportOptions> = {},
  members: MemberRecord[] = [],
): Promise<RecordedTransport> {
  const rec = { id, got: [], unreachable: [], snapshots: [], removedBy: [], logs: [] } as unknown as RecordedTransport;
  const log = createLogger({ level: "debug", write: (line) => void rec.logs.push(JSON.parse(line)) });
  rec.t = await startPeerTransport({
    memberId: id,
    clusterId: 1n,
    listenPeerUrls: ["http://127.0.0.1:0"],
    log,
    onMessage: (m) => void rec.got.push(m),
    reportUnreachable: (peer) => void rec.unreachable.push(peer),
    reportSnapshot: (peer, ok) => void rec.snapshots.push([peer, ok]),
    onRemovedFromCluster: (by) => void rec.removedBy.push(by),
    members: () => members,
    ...overrides,
  });
  return rec;
}

/** A heartbeat from `from` to `to` whose `term` numbers it (tests check order by term). */
export function numbered(from: bigint, to: bigint, n: number): Message {
  return makeMessage({ type: MessageType.MsgHeartbeat, from, to, term: n });
}

/** Polls `cond` every 5 ms; throws `timed out waiting for <what>` after `ms` (default 10 s). */
export function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  return waitFor(cond, what, ms, 5);
}

/** Connects `a` and `b` both ways and waits until both streams are active. */
export async function connect(a: RecordedTransport, b: RecordedTransport): Promise<void> {
  a.t.addPeer(b.id, b.t.urls);
  b.t.addPeer(a.id, a.t.urls);
  await until(() => a.t.activeSince(b.id) !== undefined && b.t.activeSince(a.id) !== undefined, "streams active");
}
