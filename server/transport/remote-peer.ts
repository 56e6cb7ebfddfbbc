/**
 * The sending side for one remote member: a long-lived etcdts.v1.Peer/Stream call
 * (./stream-call.ts) carrying batches of Raft messages from a bounded queue, re-opened with exponential back-off when it fails, and MsgSnap
 * sent on its own chunked Peer/Snapshot call. Mirrors in behaviour rafthttp's peer, streamWriter,
 * snapshotSender and urlPicker (etcdserver/api/rafthttp/peer.go, stream.go, snapshot_sender.go).
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import type { Logger } from "../log.ts";
import { EMPTY_BYTES, MessageType, type Message } from "../raft/types.ts";
import { messageToProto } from "../raft/wire.ts";
import { raftMessagesSize } from "../raft/message-size.ts";
import { Peer, SnapshotChunkSchema, type SnapshotChunk } from "../../proto/gen/etcdts/peer_pb.ts";
import { CLUSTER_ID_HEADER, REFUSALS, hexId, requestHeaders } from "./headers.ts";
import { PEER_READ_MAX_BYTES } from "./listen.ts";
import { peerConnectOptions, type PeerClientTls } from "./peer-tls.ts";
import { snapshotTransferBytes, type OutgoingSnapshot } from "./snapshot-data.ts";
import { PING_INTERVAL_MS, PING_TIMEOUT_MS, RaftStreamCall } from "./stream-call.ts";
import { batchEnvelope } from "./stream-wire.ts";
import type { PeerStats } from "./types.ts";
import type { PeerCounters } from "../metrics/peer-counters.ts";
import { FollowerStats } from "../v2stats/follower-stats.ts";

/** How many of `msgs` are MsgApp. */
function countAppends(msgs: readonly Message[]): number {
  let n = 0;
  for (const m of msgs) if (m.type === MessageType.MsgApp) n++;
  return n;
}

/** Largest batch the writer takes from the queue, bytes of entry and snapshot data (at least one message). */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** At most one "dropped ... sending buffer is full" warning per peer per this many ms. */
const DROP_LOG_INTERVAL_MS = 1_000;

/** The transport-wide settings and callbacks a RemotePeer uses. */
export interface SenderContext {
  memberId: bigint;
  clusterId: bigint;
  log: Logger;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  onRemovedFromCluster?(byPeer: bigint): void;
  /** Queue bound, messages. */
  maxQueuedMessages: number;
  /** Snapshot chunk size, bytes. */
  snapshotChunkBytes: number;
  /** The image sent with a MsgSnap (./snapshot-data.ts); throws when it cannot be made. */
  snapshotImage(m: Message): Promise<OutgoingSnapshot>;
  /** `/metrics` counters: bytes of the Raft messages sent per peer (server/raft/message-size.ts), snapshot images included. */
  counters?: PeerCounters;
  /** Time a stream may take to be accepted (TCP connect + the peer's StreamAccepted), ms. */
  dialTimeoutMs: number;
  /** Back-off bounds, ms. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** TLS for `https://` peer URLs (server/transport/peer-tls.ts); undefined: runtime defaults. */
  tls?: PeerClientTls;
}

type PeerClient = Client<typeof Peer>;

/**
 * A Connect client (for snapshots) on its own HTTP/2 connection to `url` (TLS with `tls` for
 * `https://`); abort the manager to close it.
 */
function connectTo(url: string, tls: PeerClientTls | undefined): { manager: Http2SessionManager; client: PeerClient } {
  const manager = new Http2SessionManager(
    url,
    { pingIntervalMs: PING_INTERVAL_MS, pingTimeoutMs: PING_TIMEOUT_MS },
    url.startsWith("https://") ? peerConnectOptions(tls) : undefined,
  );
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: "2",
    sessionManager: manager,
    useBinaryFormat: true,
    readMaxBytes: PEER_READ_MAX_BYTES,
    writeMaxBytes: PEER_READ_MAX_BYTES,
  });
  return { manager, client: createClient(Peer, transport) };
}

/** Bytes of payload a message carries (entries' data and snapshot data), for batch limits. */
function payloadBytes(m: Message): number {
  let n = m.snapshot?.data.length ?? 0;
  for (const e of m.entries) n += e.data.length;
  return n;
}

/**
 * The first chunk carries the MsgSnap without its data and the image's size, the rest carry
 * pieces of the image only; the image is read as HTTP/2 flow control asks for more.
 */
async function* snapshotChunks(m: Message, image: OutgoingSnapshot, chunkBytes: number): AsyncGenerator<SnapshotChunk> {
  const snap = m.snapshot!;
  const head = messageToProto({ ...m, snapshot: { ...snap, data: EMPTY_BYTES } });
  yield create(SnapshotChunkSchema, { message: head, totalSize: BigInt(image.sizeBytes) });
  for await (const data of image.read(chunkBytes)) yield create(SnapshotChunkSchema, { data });
}

/** Sending state for one remote member; see the module doc. */
export class RemotePeer {
  private urls: string[];
  private urlIndex = 0;
  private queue: Message[] = [];
  /** Messages of the batch being written (lost if the stream fails). */
  private inflight: Message[] = [];
  private wakeWriter: (() => void) | undefined;
  private state: "connecting" | "active" | "backoff" = "connecting";
  private since: number | undefined;
  /** The stream, closed to end it. */
  private current: { url: string; call: RaftStreamCall } | undefined;
  /** The peer's ID as hex, for log fields and counter labels. */
  private readonly hex: string;
  private backoffMs: number;
  private backoffTimer: ReturnType<typeof setTimeout> | undefined;
  private endBackoff: (() => void) | undefined;
  /** Failures logged at warn since the stream was last active; later ones go to debug. */
  private failuresLogged = 0;
  private lastDropLog = 0;
  private stopped = false;
  private readonly snapshots = new Set<Http2SessionManager>();
  /** See PeerStats. */
  readonly stats: PeerStats = { batchesSent: 0, messagesSent: 0, messagesDropped: 0, snapshotsSent: 0, snapshotsFailed: 0 };
  /** The MsgApp counts and write latency of `/v2/stats/leader` for this peer. */
  readonly followerStats = new FollowerStats();
  private readonly loop: Promise<void>;

  constructor(
    readonly id: bigint,
    urls: string[],
    private readonly ctx: SenderContext,
  ) {
    this.urls = [...urls];
    this.hex = hexId(id);
    this.backoffMs = ctx.minBackoffMs;
    this.loop = this.run();
  }

  private get log(): Logger {
    return this.ctx.log;
  }

  /**
   * Queues one (non-snapshot) message. Returns false when it was dropped: the stream is backing off
   * after a failure, or the queue holds maxQueuedMessages already (rafthttp drops the same way).
   */
  enqueue(m: Message): boolean {
    if (this.stopped) return false;
    if (this.state === "backoff") {
      this.dropped([m]);
      return false;
    }
    if (this.queue.length >= this.ctx.maxQueuedMessages) {
      this.dropped([m]);
      const now = Date.now();
      if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
        this.lastDropLog = now;
        this.log.warn("dropped internal Raft message since sending buffer is full (overloaded network)", {
          "local-member-id": hexId(this.ctx.memberId),
          "remote-peer-id": this.hex,
          "message-type": MessageType[m.type],
        });
      }
      return false;
    }
    this.queue.push(m);
    this.wakeWriter?.();
    return true;
  }

  /** Epoch ms since the stream was accepted, or undefined. */
  activeSince(): number | undefined {
    return this.state === "active" ? this.since : undefined;
  }

  /** New URL list; the stream reconnects when its URL is no longer in it. */
  update(urls: string[]): void {
    this.urls = [...urls];
    this.urlIndex = 0;
    if (this.current && !urls.includes(this.current.url)) this.current.call.close(new Error("peer URLs updated"));
  }

  /** The peer opened a stream to us, so it is up: end a back-off wait now. */
  peerConnected(): void {
    if (this.state === "backoff") this.endBackoff?.();
  }

  /**
   * Counts messages that will not reach the peer (stats, `etcd_network_peer_sent_failures_total`,
   * and the MsgApp among them as failures in followerStats).
   */
  private dropped(msgs: readonly Message[]): void {
    const n = msgs.length;
    if (n === 0) return;
    this.stats.messagesDropped += n;
    this.ctx.counters?.sentFailed(this.hex, n);
    this.followerStats.failed(countAppends(msgs));
  }

  /**
   * Sends one MsgSnap in chunks on its own connection, its image from SenderContext.snapshotImage
   * (released when the transfer ends); reportSnapshot (and reportUnreachable on failure) follow.
   */
  sendSnapshot(m: Message): void {
    if (this.stopped || this.urls.length === 0) return;
    const url = this.urls[this.urlIndex % this.urls.length]!;
    const { manager, client } = connectTo(url, this.ctx.tls);
    this.snapshots.add(manager);
    const started = Date.now();
    let image: OutgoingSnapshot | undefined;
    const fields = () => ({
      "local-member-id": hexId(this.ctx.memberId),
      "remote-peer-id": this.hex,
      "snapshot-index": m.snapshot?.metadata.index ?? 0,
      "snapshot-size-bytes": image?.sizeBytes ?? 0,
    });
    void (async () => {
      let ok = false;
      try {
        if (!m.snapshot) throw new Error("MsgSnap without snapshot");
        image = await this.ctx.snapshotImage(m);
        if (this.stopped) throw new Error("transport stopped");
        await client.snapshot(snapshotChunks(m, image, this.ctx.snapshotChunkBytes), { headers: this.headers() });
        ok = true;
        this.log.info("sent database snapshot", { ...fields(), "took-ms": Date.now() - started });
      } catch (e) {
        this.log.warn("failed to send database snapshot", { ...fields(), error: ConnectError.from(e).rawMessage });
      } finally {
        this.snapshots.delete(manager);
        manager.abort();
        image?.release();
      }
      if (this.stopped) return;
      this.stats[ok ? "snapshotsSent" : "snapshotsFailed"]++;
      if (!ok) this.ctx.counters?.sentFailed(this.hex, 1);
      if (ok) this.ctx.counters?.sent(this.hex, snapshotTransferBytes(m, image?.sizeBytes ?? 0));
      if (!ok) this.ctx.reportUnreachable(this.id);
      this.ctx.reportSnapshot(this.id, ok);
    })();
  }

  /** Ends the stream, the back-off wait and in-flight snapshots; no callback runs afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    this.current?.call.close(new Error("transport stopped"));
    for (const manager of this.snapshots) manager.abort(new Error("transport stopped"));
    this.endBackoff?.();
    this.wakeWriter?.();
    await this.loop;
  }

  private headers(): Record<string, string> {
    return requestHeaders(this.ctx.clusterId, this.ctx.memberId, this.id);
  }

  /**
   * Writes batches from the queue to `call`, each once the previous one was taken, until the call
   * ends or the peer is stopped; nothing before the peer accepted the stream, so a refusing or
   * unresponsive peer gets no messages (they stay queued, bounded, and are dropped and reported
   * when the attempt fails). Returns why the stream ended.
   */
  private async stream(call: RaftStreamCall, url: string): Promise<unknown> {
    try {
      await call.accepted;
    } catch (e) {
      return e;
    }
    this.activate(url);
    void call.ended.then(() => this.wakeWriter?.());
    while (call.failure === undefined && !this.stopped) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => (this.wakeWriter = resolve));
        this.wakeWriter = undefined;
        continue;
      }
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && (n === 0 || bytes + payloadBytes(this.queue[n]!) <= MAX_BATCH_BYTES)) {
        bytes += payloadBytes(this.queue[n]!);
        n++;
      }
      const msgs = n === this.queue.length ? this.queue : this.queue.slice(0, n);
      this.queue = n === this.queue.length ? [] : this.queue.slice(n);
      this.inflight = msgs;
      // The write resolves once the stream took the batch: that wait is the appends' write time.
      const writeStart = performance.now();
      if (!(await call.write(batchEnvelope(msgs)))) break;
      const writeMs = performance.now() - writeStart;
      this.inflight = [];
      for (const m of msgs) if (m.type === MessageType.MsgApp) this.followerStats.succeeded(writeMs);
      this.stats.batchesSent++;
      this.stats.messagesSent += msgs.length;
      if (this.ctx.counters) this.ctx.counters.sent(this.hex, raftMessagesSize(msgs));
    }
    return call.failure ?? new Error("stream closed by remote peer");
  }

  /** Opens the stream, waits for it to end, backs off, repeats until stopped. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.urls.length === 0) {
        await this.wait(this.ctx.maxBackoffMs);
        continue;
      }
      const url = this.urls[this.urlIndex % this.urls.length]!;
      const call = new RaftStreamCall(url, this.ctx.tls, this.headers(), this.ctx.dialTimeoutMs);
      this.current = { url, call };
      this.state = "connecting";
      const failure = await this.stream(call, url);
      call.close(failure);
      this.wakeWriter?.();
      this.current = undefined;
      if (this.stopped) break;
      this.deactivate(url, failure);
      await this.wait(this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.ctx.maxBackoffMs);
    }
    this.state = "backoff";
    this.since = undefined;
  }

  private activate(url: string): void {
    if (this.state === "active") return;
    this.state = "active";
    this.since = Date.now();
    this.backoffMs = this.ctx.minBackoffMs;
    this.failuresLogged = 0;
    this.log.info("peer became active", { "local-member-id": hexId(this.ctx.memberId), "remote-peer-id": this.hex, url });
  }

  /** Records a failed or ended stream: drops what was queued, logs, reports the peer unreachable, picks the next URL. */
  private deactivate(url: string, failure: unknown): void {
    const wasActive = this.state === "active";
    this.state = "backoff";
    this.since = undefined;
    const lost = this.inflight.length + this.queue.length;
    this.dropped(this.inflight);
    this.dropped(this.queue);
    this.inflight = [];
    this.queue = [];
    if (this.urls.length > 0) this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    const err = ConnectError.from(failure);
    const fields = {
      "local-member-id": hexId(this.ctx.memberId),
      "remote-peer-id": this.hex,
      url,
      "dropped-messages": lost,
      error: err.rawMessage,
    };
    if (err.code === Code.FailedPrecondition && err.rawMessage === REFUSALS.clusterIdMismatch) {
      this.log.error("request sent was ignored by remote peer due to cluster ID mismatch", {
        ...fields,
        "local-member-cluster-id": hexId(this.ctx.clusterId),
        "remote-peer-cluster-id": err.metadata.get(CLUSTER_ID_HEADER) ?? "",
      });
    } else if (err.code === Code.FailedPrecondition && err.rawMessage === REFUSALS.removedMember) {
      this.log.error("the member has been permanently removed from the cluster", fields);
      this.ctx.onRemovedFromCluster?.(this.id);
    } else if (wasActive) {
      this.log.warn("lost stream connection with remote peer; peer became inactive", fields);
    } else if (this.failuresLogged++ === 0) {
      this.log.warn("failed to open stream to remote peer; peer is inactive", fields);
    } else {
      this.log.debug("failed to open stream to remote peer", fields);
    }
    // Messages written just before the failure may be lost too (refused or cut off): report every time.
    this.ctx.reportUnreachable(this.id);
  }

  /** Sleeps `ms`, or less when stopped or the peer connects to us. */
  private wait(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.endBackoff = () => {
        clearTimeout(this.backoffTimer);
        this.backoffTimer = undefined;
        this.endBackoff = undefined;
        resolve();
      };
      this.backoffTimer = setTimeout(this.endBackoff, ms);
    });
  }
}
