/**
 * The request side of a client bidi stream (watch, lease keep-alive): requests are pushed one at
 * a time as the command decides to send them, and the stream reads them as an async iterable.
 */

/** Requests for a bidi stream, pushed one at a time; `close()` half-closes the stream. */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  /** Queues `r` for sending. */
  push(r: T): void {
    this.items.push(r);
    this.wake?.();
  }

  /** Ends the request stream once the queued requests are sent. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
