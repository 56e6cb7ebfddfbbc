/**
 * The sending end of one Raft message stream (etcdts.v1.Peer/Stream; bytes in ./stream-wire.ts):
 * its own HTTP/2 connection to the peer (TLS with the peer client settings on `https://`), one
 * request written batch by batch, the response read for StreamAccepted and the end. Written on
 * node:http2 directly instead of Connect's client, whose async iterables and envelope machinery
 * cost more per batch than encoding the batch. Liveness as rafthttp's stream (5 s read/write
 * timeout): a PING every PING_INTERVAL_MS, the connection ended when one goes unanswered for
 * PING_TIMEOUT_MS.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import * as http2 from "node:http2";
import { PEER_READ_MAX_BYTES } from "./listen.ts";
import { peerConnectOptions, type PeerClientTls } from "./peer-tls.ts";
import {
  END_STREAM_FLAG,
  EnvelopeReader,
  STREAM_CONTENT_TYPE,
  STREAM_PATH,
  STREAM_PROTOCOL_VERSION,
  endStreamError,
} from "./stream-wire.ts";

/** PING interval on a stream's connection, ms. */
export const PING_INTERVAL_MS = 2_000;
/** See PING_INTERVAL_MS; rafthttp's stream read/write timeout is 5 s. */
export const PING_TIMEOUT_MS = 5_000;

/** One stream to a peer; see the module doc. */
export class RaftStreamCall {
  /** Resolves when the peer answered StreamAccepted; rejects with the failure when the call ended first. */
  readonly accepted: Promise<void>;
  /** Resolves with the reason once the call ended (never rejects). */
  readonly ended: Promise<unknown>;
  /** Why the call ended; undefined while it runs. */
  failure: unknown;
  private readonly session: http2.ClientHttp2Session;
  private readonly request: http2.ClientHttp2Stream;
  private resolveAccepted!: () => void;
  private rejectAccepted!: (e: unknown) => void;
  private resolveEnded!: (reason: unknown) => void;
  private readonly dialTimer: ReturnType<typeof setTimeout>;
  private readonly pingTimer: ReturnType<typeof setInterval>;
  private pingSentAt: number | undefined;
  private responseHeaders = new Headers();
  /** Resolves the write in progress (one at a time); called with false when the call ends first. */
  private pendingWrite: ((written: boolean) => void) | undefined;

  /**
   * Dials `url` and sends the request with `headers` (the peer headers of ./headers.ts). Fails
   * with `stream not accepted within <dialTimeoutMs> ms` when StreamAccepted does not arrive in
   * time, with the peer's refusal (a ConnectError with its code, message and the response
   * headers as metadata), or with the connection's error.
   */
  constructor(url: string, tls: PeerClientTls | undefined, headers: Record<string, string>, dialTimeoutMs: number) {
    this.accepted = new Promise<void>((resolve, reject) => {
      this.resolveAccepted = resolve;
      this.rejectAccepted = reject;
    });
    this.accepted.catch(() => {}); // a failure is read from `ended` too
    this.ended = new Promise<unknown>((resolve) => (this.resolveEnded = resolve));
    this.dialTimer = setTimeout(() => this.fail(new Error(`stream not accepted within ${dialTimeoutMs} ms`)), dialTimeoutMs);
    this.pingTimer = setInterval(() => this.ping(), PING_INTERVAL_MS);
    const options = url.startsWith("https://") ? peerConnectOptions(tls) : undefined;
    this.session = options ? http2.connect(url, options) : http2.connect(url);
    this.session.on("error", (e) => this.fail(e));
    this.session.on("close", () => this.fail(new ConnectError("connection closed", Code.Unavailable)));
    this.request = this.session.request({
      ":method": "POST",
      ":path": STREAM_PATH,
      "content-type": STREAM_CONTENT_TYPE,
      "connect-protocol-version": STREAM_PROTOCOL_VERSION,
      ...headers,
    });
    this.request.on("response", (h) => this.onResponse(h));
    const reader = new EnvelopeReader(PEER_READ_MAX_BYTES);
    this.request.on("data", (chunk: Uint8Array) => {
      try {
        for (const envelope of reader.push(chunk)) {
          if ((envelope.flags & END_STREAM_FLAG) !== 0) {
            this.fail(endStreamError(envelope.data, this.responseHeaders) ?? new Error("stream closed by remote peer"));
          } else {
            clearTimeout(this.dialTimer);
            this.resolveAccepted();
          }
        }
      } catch (e) {
        this.fail(e);
      }
    });
    this.request.on("end", () => this.fail(new Error("stream closed by remote peer")));
    this.request.on("close", () => this.fail(new Error("stream closed by remote peer")));
    this.request.on("error", (e) => this.fail(e));
  }

  /**
   * Writes one envelope; resolves true once the stream took it, false when the call ended
   * before (the bytes may or may not have reached the peer). One write at a time: throws when
   * the previous one has not resolved.
   */
  write(envelope: Uint8Array): Promise<boolean> {
    if (this.failure !== undefined) return Promise.resolve(false);
    if (this.pendingWrite) throw new Error("RaftStreamCall: write while a write is pending");
    return new Promise<boolean>((resolve) => {
      this.pendingWrite = resolve;
      this.request.write(envelope, (e) => {
        this.pendingWrite = undefined;
        resolve(!e && this.failure === undefined);
      });
    });
  }

  /** Ends the call and its connection with `reason` (no-op once ended). */
  close(reason: unknown = new Error("stream closed")): void {
    this.fail(reason);
  }

  private onResponse(h: http2.IncomingHttpHeaders): void {
    for (const [name, value] of Object.entries(h)) {
      if (!name.startsWith(":") && value !== undefined) this.responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const status = Number(h[":status"]);
    if (status !== 200) this.fail(new ConnectError(`HTTP ${status}`, status === 404 ? Code.Unimplemented : Code.Unknown, this.responseHeaders));
  }

  private ping(): void {
    if (this.pingSentAt !== undefined) {
      if (performance.now() - this.pingSentAt > PING_TIMEOUT_MS) this.fail(new ConnectError("PING timed out", Code.Unavailable));
      return;
    }
    this.pingSentAt = performance.now();
    try {
      this.session.ping((err) => {
        if (err) this.fail(err);
        else this.pingSentAt = undefined;
      });
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(reason: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = reason ?? new Error("stream ended");
    clearTimeout(this.dialTimer);
    clearInterval(this.pingTimer);
    this.rejectAccepted(this.failure);
    this.resolveEnded(this.failure);
    this.pendingWrite?.(false);
    this.pendingWrite = undefined;
    this.request.close();
    this.session.destroy();
  }
}
