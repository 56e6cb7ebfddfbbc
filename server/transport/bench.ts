/**
 * Throughput of the peer transport between two transports in one process on loopback (not a test):
 * `bun server/transport/bench.ts [--messages N] [--entry-bytes B] [--window W] [--snapshot-mb S]`.
 *
 * The sender keeps at most W messages (default 2000) queued or in flight, sending MsgApp messages with
 * one entry of B bytes (default 256), and reports messages/s, MB/s and the mean batch size (messages per
 * stream write); then one MsgSnap of S MiB (default 20) and its transfer time.
 */
import { parseArgs } from "node:util";
import { createLogger } from "../log.ts";
import { MessageType, makeMessage, type Message } from "../raft/types.ts";
import { startPeerTransport, type PeerTransport } from "./transport.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    "entry-bytes": { type: "string", default: "256" },
    window: { type: "string", default: "2000" },
    "snapshot-mb": { type: "string", default: "20" },
  },
});
const total = Number(values.messages);
const entryBytes = Number(values["entry-bytes"]);
const window = Number(values.window);
const snapshotMb = Number(values["snapshot-mb"]);

const log = createLogger({ level: "warn" });
let received = 0;
let snapshotDone: ((ok: boolean) => void) | undefined;
const start = (id: bigint, onMessage: (m: Message) => void): Promise<PeerTransport> =>
  startPeerTransport({
    memberId: id,
    clusterId: 1n,
    listenPeerUrls: ["http://127.0.0.1:0"],
    log,
    onMessage,
    reportUnreachable: () => {},
    reportSnapshot: (_, ok) => snapshotDone?.(ok),
    members: () => [],
  });
const a = await start(1n, () => {});
const b = await start(2n, () => received++);
a.addPeer(2n, b.urls);
while (a.activeSince(2n) === undefined) await Bun.sleep(5);

const data = new Uint8Array(entryBytes).fill(97);
const t0 = performance.now();
let sent = 0;
while (received < total) {
  const burst = Math.min(window - (sent - received), total - sent);
  for (let i = 0; i < burst; i++, sent++) {
    a.send([makeMessage({ type: MessageType.MsgApp, to: 2n, from: 1n, term: 1, index: sent, entries: [{ term: 1, index: sent + 1, type: 0, data }] })]);
  }
  await Bun.sleep(0);
}
const secs = (performance.now() - t0) / 1000;
const stats = a.stats(2n)!;
console.log(
  `messages: ${total} x 1 entry of ${entryBytes} B, window ${window}: ${Math.round(total / secs)} msg/s, ` +
    `${((total * entryBytes) / secs / 1e6).toFixed(1)} MB/s payload, mean batch ${(stats.messagesSent / stats.batchesSent).toFixed(1)} messages ` +
    `(${stats.batchesSent} batches), dropped ${stats.messagesDropped}`,
);

if (snapshotMb > 0) {
  const snap = new Uint8Array(snapshotMb * 1024 * 1024).fill(7);
  const t1 = performance.now();
  const ok = await new Promise<boolean>((resolve) => {
    snapshotDone = resolve;
    a.send([makeMessage({ type: MessageType.MsgSnap, to: 2n, from: 1n, term: 1, snapshot: { data: snap, metadata: { index: 10, term: 1, confState: { voters: [1n, 2n], learners: [] } } } })]);
  });
  console.log(`snapshot: ${snapshotMb} MiB ${ok ? "delivered" : "FAILED"} in ${Math.round(performance.now() - t1)} ms`);
}
await Promise.all([a.close(), b.close()]);
