import { afterEach, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { EntryType, MessageType, makeMessage, type Message } from "../raft/types.ts";
import { raftMessageSize, raftMessagesSize } from "../raft/message-size.ts";
import { snapshotTransferBytes } from "./snapshot-data.ts";
import { PeerCounters } from "../metrics/peer-counters.ts";
import { freePort } from "../http/test-util.ts";
import { connect, numbered, recordedTransport, until, type RecordedTransport } from "./testing.ts";
import type { PeerTransportOptions } from "./types.ts";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { MessageBatchSchema, Peer } from "../../proto/gen/etcdts/peer_pb.ts";
import { encodeMessage } from "../raft/message-codec.ts";
import { requestHeaders } from "./headers.ts";

const started: RecordedTransport[] = [];
async function start(id: bigint, overrides: Partial<PeerTransportOptions> = {}): Promise<RecordedTransport> {
  const rec = await recordedTransport(id, overrides);
  started.push(rec);
  return rec;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.t.close()));
});

const terms = (msgs: Message[], from?: bigint) => msgs.filter((m) => from === undefined || m.from === from).map((m) => m.term);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const hasLog = (r: RecordedTransport, msg: string) => r.logs.some((l) => l.msg === msg);

describe("stream", () => {
  test("three transports: every message delivered once, in order per sender", async () => {
    const [a, b, c] = [await start(1n), await start(2n), await start(3n)];
    await Promise.all([connect(a, b), connect(b, c), connect(a, c)]);
    const all = [a, b, c];
    for (let round = 0; round < 5; round++) {
      for (const s of all) {
        for (const r of all) {
          if (r === s) continue;
          s.t.send(range(round * 100, round * 100 + 100).map((n) => numbered(s.id, r.id, n)));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await until(() => all.every((r) => r.got.length === 1000), "1000 messages at each member");
    for (const r of all) {
      for (const s of all) if (s !== r) expect(terms(r.got, s.id)).toEqual(range(0, 500));
      expect(r.got.every((m) => m.to === r.id)).toBe(true);
    }
    expect(a.unreachable).toEqual([]);
  });

  test("what is queued while a batch is written goes in the next batch", async () => {
    const [a, b] = [await start(1n), await start(2n)];
    await connect(a, b);
    const before = a.t.stats(2n)!.batchesSent;
    for (let n = 0; n < 1000; n++) a.t.send([numbered(1n, 2n, n)]); // one call per message, no await between
    await until(() => b.got.length === 1000, "1000 messages");
    expect(terms(b.got)).toEqual(range(0, 1000));
    expect(a.t.stats(2n)!.batchesSent - before).toBeLessThanOrEqual(2);
    expect(a.t.stats(2n)!.messagesSent).toBe(1000);
  });

  test("a full queue drops new messages and reports the peer unreachable", async () => {
    const [a, b] = [await start(1n, { maxQueuedMessages: 10 }), await start(2n)];
    await connect(a, b);
    a.t.send(range(0, 100).map((n) => numbered(1n, 2n, n)));
    await until(() => b.got.length === 10, "10 messages");
    a.t.send([numbered(1n, 2n, 100)]);
    await until(() => b.got.length === 11, "the message after the drop");
    expect(terms(b.got)).toEqual([...range(0, 10), 100]);
    expect(a.unreachable).toEqual([2n]);
    expect(a.t.stats(2n)!.messagesDropped).toBe(90);
    expect(hasLog(a, "dropped internal Raft message since sending buffer is full (overloaded network)")).toBe(true);
  });

  test("messages to unknown peers are dropped without a report", async () => {
    const a = await start(1n);
    a.t.send([numbered(1n, 9n, 0)]);
    expect(a.unreachable).toEqual([]);
    expect(a.t.activeSince(9n)).toBeUndefined();
  });

  test("a peer that was down receives later messages once it is up (back-off retry)", async () => {
    const port = await freePort();
    const a = await start(1n, { minBackoffMs: 20, maxBackoffMs: 200 });
    a.t.addPeer(2n, [`http://127.0.0.1:${port}`]);
    a.t.send([numbered(1n, 2n, 1)]);
    await until(() => a.unreachable.length > 0, "unreachable report");
    expect(a.unreachable[0]).toBe(2n);
    expect(hasLog(a, "failed to open stream to remote peer; peer is inactive")).toBe(true);
    const b = await start(2n, { listenPeerUrls: [`http://127.0.0.1:${port}`] }); // b does not dial a
    await until(() => a.t.activeSince(2n) !== undefined, "stream to the restarted peer");
    a.t.send([numbered(1n, 2n, 2), numbered(1n, 2n, 3)]);
    await until(() => b.got.length === 2, "messages after reconnect");
    expect(terms(b.got)).toEqual([2, 3]);
  });

  test("a peer dialing us ends our back-off wait at once", async () => {
    const port = await freePort();
    const a = await start(1n, { minBackoffMs: 600_000, maxBackoffMs: 600_000 });
    a.t.addPeer(2n, [`http://127.0.0.1:${port}`]);
    await until(() => hasLog(a, "failed to open stream to remote peer; peer is inactive"), "first failure");
    const b = await start(2n, { listenPeerUrls: [`http://127.0.0.1:${port}`] });
    b.t.addPeer(1n, a.t.urls);
    await until(() => a.t.activeSince(2n) !== undefined, "stream to b before the 10 min back-off ends");
  });

  test("a peer that accepts TCP but never answers counts as unreachable after the dial timeout", async () => {
    const hole = net.createServer((s) => void s.on("error", () => {}).resume());
    await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
    const a = await start(1n, { dialTimeoutMs: 200 });
    try {
      a.t.addPeer(2n, [`http://127.0.0.1:${(hole.address() as net.AddressInfo).port}`]);
      a.t.send([numbered(1n, 2n, 1)]);
      await until(() => a.unreachable.length > 0, "unreachable report");
      const failure = a.logs.find((l) => l.msg === "failed to open stream to remote peer; peer is inactive")!;
      expect(failure.error).toBe("stream not accepted within 200 ms");
      expect(failure["dropped-messages"]).toBe(1);
    } finally {
      await a.t.close();
      await new Promise((resolve) => hole.close(resolve));
    }
  });

  test("a peer with several URLs is reached through the one that answers; updatePeer moves the stream", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const [a, b, c] = [await start(1n, { minBackoffMs: 20 }), await start(2n), await start(2n)];
    a.t.addPeer(2n, [down, b.t.urls[0]!]);
    await until(() => a.t.activeSince(2n) !== undefined, "stream through the second URL");
    a.t.updatePeer(2n, [c.t.urls[0]!]); // "member update": the same ID now listens elsewhere
    await until(() => a.logs.some((l) => l.msg === "peer became active" && l.url === c.t.urls[0]), "stream to the new URL");
    a.t.send([numbered(1n, 2n, 1)]);
    await until(() => c.got.length === 1, "message at the new URL");
    expect(b.got).toEqual([]);
  });

  test("a lost connection is re-established and the in-flight loss reported", async () => {
    const a = await start(1n, { minBackoffMs: 20 });
    let b = await start(2n);
    const url = b.t.urls[0]!;
    a.t.addPeer(2n, [url]);
    await until(() => a.t.activeSince(2n) !== undefined, "stream active");
    await b.t.close();
    await until(() => a.t.activeSince(2n) === undefined, "stream inactive");
    expect(a.unreachable).toContain(2n);
    expect(hasLog(a, "lost stream connection with remote peer; peer became inactive")).toBe(true);
    b = await start(2n, { listenPeerUrls: [url] });
    await until(() => a.t.activeSince(2n) !== undefined, "stream active again");
    a.t.send([numbered(1n, 2n, 7)]);
    await until(() => b.got.length === 1, "message after reconnect");
  });
});

describe("refusals", () => {
  test("a member of another cluster refuses the stream; the sender logs cluster ID mismatch", async () => {
    const a = await start(1n, { clusterId: 0xaan });
    const b = await start(2n, { clusterId: 0xbbn });
    a.t.addPeer(2n, b.t.urls);
    a.t.send([numbered(1n, 2n, 1)]);
    await until(() => hasLog(a, "request sent was ignored by remote peer due to cluster ID mismatch"), "mismatch log");
    const line = a.logs.find((l) => l.msg === "request sent was ignored by remote peer due to cluster ID mismatch")!;
    expect(line["local-member-cluster-id"]).toBe("aa");
    expect(line["remote-peer-cluster-id"]).toBe("bb");
    expect(line.level).toBe("error");
    expect(b.logs.some((l) => l.msg === "rejected stream from remote peer" && l.error === "cluster ID mismatch")).toBe(true);
    await until(() => a.unreachable.length > 0, "unreachable report");
    expect(a.t.activeSince(2n)).toBeUndefined();
    expect(b.got).toEqual([]);
  });

  test("messages whose from is not the stream's sender are dropped", async () => {
    const [a, b] = [await start(1n), await start(2n)];
    await connect(a, b);
    a.t.send([numbered(5n, 2n, 1), numbered(1n, 2n, 2)]);
    await until(() => b.got.length === 1, "the genuine message");
    expect(terms(b.got)).toEqual([2]);
    expect(hasLog(b, "dropped Raft message with unexpected from/to")).toBe(true);
  });

  test("messages from a removed member are ignored and it learns it was removed", async () => {
    const [a, b] = [await start(1n), await start(2n)];
    await connect(a, b);
    a.t.send([numbered(1n, 2n, 1)]);
    await until(() => b.got.length === 1, "message before removal");
    b.t.removePeer(1n);
    a.t.send([numbered(1n, 2n, 2)]);
    await until(() => a.removedBy.length > 0, "removal noticed by a");
    expect(a.removedBy[0]).toBe(2n);
    expect(hasLog(a, "the member has been permanently removed from the cluster")).toBe(true);
    a.t.send([numbered(1n, 2n, 3)]);
    await until(() => a.removedBy.length > 1, "the re-opened stream refused too");
    expect(terms(b.got)).toEqual([1]);
    b.t.addPeer(1n, a.t.urls); // a removed ID is never added back
    expect(b.t.activeSince(1n)).toBeUndefined();
    expect(b.t.stats(1n)).toBeUndefined();
  });
});

describe("wire", () => {
  test("a member speaking through Connect's client is served: StreamAccepted, then its batches delivered", async () => {
    const b = await start(2n);
    const transport = createConnectTransport({ baseUrl: b.t.urls[0]!, httpVersion: "2", useBinaryFormat: true });
    const client = createClient(Peer, transport);
    let accepted!: () => void;
    const ack = new Promise<void>((resolve) => (accepted = resolve));
    async function* batches() {
      await ack;
      yield create(MessageBatchSchema, { messages: [encodeMessage(numbered(1n, 2n, 1)), encodeMessage(numbered(1n, 2n, 2))] });
      await until(() => b.got.length === 2, "the Connect client's batch");
    }
    const answers = [];
    for await (const a of client.stream(batches(), { headers: requestHeaders(1n, 1n, 2n) })) {
      answers.push(a);
      accepted();
    }
    expect(answers.length).toBe(1);
    expect(terms(b.got)).toEqual([1, 2]);
    const refused = client.stream(batches(), { headers: requestHeaders(9n, 1n, 2n) });
    const err = await (async () => {
      for await (const _ of refused);
    })().catch((e: unknown) => ConnectError.from(e));
    expect([err?.code, err?.rawMessage, err?.metadata.get("x-etcd-cluster-id")]).toEqual([Code.FailedPrecondition, "cluster ID mismatch", "1"]);
  });
});

describe("snapshot", () => {
  const snapMsg = (data: Uint8Array): Message =>
    makeMessage({
      type: MessageType.MsgSnap,
      from: 1n,
      to: 2n,
      term: 3,
      snapshot: { data, metadata: { index: 42, term: 3, confState: { voters: [1n, 2n], learners: [5n] } } },
    });

  test("a 20 MiB snapshot arrives intact in chunks and is reported", async () => {
    const [a, b] = [await start(1n), await start(2n)];
    a.t.addPeer(2n, b.t.urls);
    const data = new Uint8Array(20 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 16)) & 0xff;
    a.t.send([numbered(1n, 2n, 1), snapMsg(data)]);
    await until(() => a.snapshots.length > 0, "snapshot report", 60_000);
    expect(a.snapshots).toEqual([[2n, true]]);
    const snap = b.got.find((m) => m.type === MessageType.MsgSnap)!;
    expect(snap.snapshot!.metadata).toEqual({ index: 42, term: 3, confState: { voters: [1n, 2n], learners: [5n] } });
    expect(snap.term).toBe(3);
    expect(snap.snapshot!.data.length).toBe(data.length);
    expect(Buffer.from(snap.snapshot!.data).equals(Buffer.from(data))).toBe(true);
    expect(b.logs.some((l) => l.msg === "received database snapshot" && l["incoming-snapshot-size-bytes"] === data.length)).toBe(true);
    expect(a.t.stats(2n)!.snapshotsSent).toBe(1);
  });

  test("peer byte counters add etcd's raftpb.Message.Size() of every message streamed and snapshot sent, on both ends", async () => {
    const [sent, received] = [new PeerCounters(), new PeerCounters()];
    const [a, b] = [await start(1n, { counters: sent }), await start(2n, { counters: received })];
    await connect(a, b);
    const app = makeMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 3, index: 7, entries: [{ term: 3, index: 8, type: EntryType.EntryNormal, data: new Uint8Array(1000) }] });
    const msgs = [...range(0, 50).map((n) => numbered(1n, 2n, n)), app, snapMsg(new Uint8Array(300_000))];
    a.t.send(msgs);
    await until(() => b.got.length === msgs.length && a.snapshots.length === 1, "every message and the snapshot report");
    // The MsgSnap counts as sent (its snapshot without data) plus its image, as etcd's TotalSize.
    const snap = msgs.at(-1)!;
    const expected = raftMessagesSize(msgs.slice(0, -1)) + snapshotTransferBytes(snap, 300_000);
    expect(expected).toBeGreaterThan(301_000 + 50 * 30);
    expect(snapshotTransferBytes(snap, 300_000)).toBe(raftMessageSize({ ...snap, snapshot: { ...snap.snapshot!, data: new Uint8Array() } }) + 300_000);
    await until(() => received.receivedBytes.get("1") === expected, "received bytes");
    expect(sent.sentBytes.get("2")).toBe(expected);
  });

  test("a snapshot to a peer that is down is reported failed and unreachable", async () => {
    const a = await start(1n);
    a.t.addPeer(2n, [`http://127.0.0.1:${await freePort()}`]);
    a.t.send([snapMsg(new Uint8Array(10))]);
    await until(() => a.snapshots.length > 0, "snapshot report");
    expect(a.snapshots).toEqual([[2n, false]]);
    expect(a.unreachable).toContain(2n);
  });
});

describe("close", () => {
  test("a process that closes its transports exits by itself (no sockets or timers left)", async () => {
    const proc = Bun.spawn([process.execPath, `${import.meta.dir}/close-fixture.ts`], { stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => proc.kill(), 30_000);
    const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    clearTimeout(killer);
    expect(out.trim()).toBe("closed");
    expect(proc.signalCode).toBeNull();
    expect(code).toBe(0);
  });
});
