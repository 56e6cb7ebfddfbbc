/**
 * The Raft append counters of `/v2/stats/self` (etcd's etcdserver/api/v2stats server.go and
 * queue.go): how many MsgApp this member sent (as leader) and received (as follower), and the
 * rates over the last {@link RATE_QUEUE_REQUESTS} of them, in requests and bytes per second; a
 * rate is 0 (and left out of the JSON) once the last request is more than a second old.
 */

import { goJsonFloat } from "../../cli/go/json.ts";

/** Requests the rates are computed over (etcd's queueCapacity). */
export const RATE_QUEUE_REQUESTS = 200;

/** The last requests' times (epoch ms) and sizes (bytes). */
class RateQueue {
  private items: { atMs: number; bytes: number }[] = [];
  private totalBytes = 0;

  insert(atMs: number, bytes: number): void {
    this.items.push({ atMs, bytes });
    this.totalBytes += bytes;
    if (this.items.length > RATE_QUEUE_REQUESTS) this.totalBytes -= this.items.shift()!.bytes;
  }

  /** [requests/s, bytes/s] (etcd's statsQueue.Rate). */
  rate(nowMs: number): [number, number] {
    const front = this.items[0];
    const back = this.items[this.items.length - 1];
    if (!front || !back) return [0, 0];
    if (nowMs - back.atMs > 1000) {
      this.items = [];
      this.totalBytes = 0;
      return [0, 0];
    }
    const seconds = (back.atMs - front.atMs) / 1000;
    // Go divides by a zero duration into +Inf, which encoding/json refuses; report 0 instead.
    if (seconds <= 0) return [0, 0];
    return [this.items.length / seconds, this.totalBytes / seconds];
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
