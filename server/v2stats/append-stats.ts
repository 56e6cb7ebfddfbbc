/**
 * The Raft append counters of `/v2/stats/self` (etcd's etcdserver/api/v2stats server.go and
 * queue.go): how many MsgApp this member sent (as leader) and received (as follower), and the
 * rates over the last {@link RATE_QUEUE_REQUESTS} of them, in requests and bytes per second; a
 * rate is 0 (and left out of the JSON) once the last request is more than a second old.
 */

import { goJsonFloat } from "../../cli/go/json.ts";

/** Requests the rates are computed over (etcd's queueCapacity). */
export const RATE_QUEUE_REQUESTS = 200;

/** The last requests' times (epoch ms) and sizes (bytes), in a ring of RATE_QUEUE_REQUESTS slots. */
class RateQueue {
  private readonly atMs = new Float64Array(RATE_QUEUE_REQUESTS);
  private readonly bytes = new Float64Array(RATE_QUEUE_REQUESTS);
  /** Slot of the oldest request kept, and how many are kept. */
  private head = 0;
  private count = 0;
  private totalBytes = 0;

  insert(atMs: number, bytes: number): void {
    if (this.count === RATE_QUEUE_REQUESTS) {
      // Full: the oldest request leaves, its slot takes the new one.
      this.totalBytes -= this.bytes[this.head]!;
      this.atMs[this.head] = atMs;
      this.bytes[this.head] = bytes;
      this.head = (this.head + 1) % RATE_QUEUE_REQUESTS;
    } else {
      const slot = (this.head + this.count) % RATE_QUEUE_REQUESTS;
      this.atMs[slot] = atMs;
      this.bytes[slot] = bytes;
      this.count++;
    }
    this.totalBytes += bytes;
  }

  /** [requests/s, bytes/s] (etcd's statsQueue.Rate). */
  rate(nowMs: number): [number, number] {
    if (this.count === 0) return [0, 0];
    const front = this.atMs[this.head]!;
    const back = this.atMs[(this.head + this.count - 1) % RATE_QUEUE_REQUESTS]!;
    if (nowMs - back > 1000) {
      this.head = 0;
      this.count = 0;
      this.totalBytes = 0;
      return [0, 0];
    }
    const seconds = (back - front) / 1000;
    // Go divides by a zero duration into +Inf, which encoding/json refuses; report 0 instead.
    if (seconds <= 0) return [0, 0];
    return [this.count / seconds, this.totalBytes / seconds];
  }
}

/** Counters and rates of appends sent and received. */
export class AppendStats {
  private recvCount = 0;
  private sendCount = 0;
  private readonly recvQueue = new RateQueue();
  private readonly sendQueue = new RateQueue();

  /** A MsgApp of `bytes` was received from the leader at `nowMs`. */
  received(nowMs: number, bytes: number): void {
    this.recvCount++;
    this.recvQueue.insert(nowMs, bytes);
  }

  /** A MsgApp of `bytes` was sent to a follower at `nowMs`. */
  sent(nowMs: number, bytes: number): void {
    this.sendCount++;
    this.sendQueue.insert(nowMs, bytes);
  }

  /** The JSON fields etcd writes after `leaderInfo`, zero rates left out (`omitempty`). */
  jsonFields(nowMs: number): string {
    const [rp, rb] = this.recvQueue.rate(nowMs);
    const [sp, sb] = this.sendQueue.rate(nowMs);
    let out = `"recvAppendRequestCnt":${this.recvCount}`;
    if (rp) out += `,"recvPkgRate":${goJsonFloat(rp)}`;
    if (rb) out += `,"recvBandwidthRate":${goJsonFloat(rb)}`;
    out += `,"sendAppendRequestCnt":${this.sendCount}`;
    if (sp) out += `,"sendPkgRate":${goJsonFloat(sp)}`;
    if (sb) out += `,"sendBandwidthRate":${goJsonFloat(sb)}`;
    return out;
  }
}
