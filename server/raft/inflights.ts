/**
 * Inflights: a bounded window of in-flight MsgApp messages to one follower (flow control for pipelined
 * replication). Each slot holds the last entry index of one sent message; acknowledgements free slots in
 * order. When the window is full the leader pauses sending entries to that follower.
 *
 * Mirrors go.etcd.io/etcd/raft/tracker/inflights.go in behaviour (ring buffer, grown lazily).
 */
export class Inflights {
  private start = 0;
  private count = 0;
  private buffer: number[] = [];
  /** Maximum number of in-flight messages (Config.maxInflightMsgs). */
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  /** Records a sent message whose last entry index is `inflight` (indexes must be increasing). */
  add(inflight: number): void {
    if (this.full()) throw new Error("cannot add into a full inflights");
    let next = this.start + this.count;
    if (next >= this.size) next -= this.size;
    if (next >= this.buffer.length) this.grow();
    this.buffer[next] = inflight;
    this.count++;
  }

  private grow(): void {
    let n = this.buffer.length * 2;
    if (n === 0) n = 1;
    else if (n > this.size) n = this.size;
    const b = new Array<number>(n).fill(0);
    for (let i = 0; i < this.buffer.length; i++) b[i] = this.buffer[i]!;
    this.buffer = b;
  }

  /** Frees every message whose last index is <= to (they were acknowledged). */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.buffer[this.start]!) return;
    let idx = this.start;
    let i = 0;
    for (; i < this.count; i++) {
      if (to < this.buffer[idx]!) break;
      idx++;
      if (idx >= this.size) idx -= this.size;
    }
    this.count -= i;
    this.start = idx;
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest message (a heartbeat response proves the follower is alive). */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.buffer[this.start]!);
  }

  full(): boolean {
    return this.count === this.size;
  }

  /** Number of messages in flight. */
  get length(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
  }
}
