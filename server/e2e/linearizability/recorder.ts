/**
 * Records a concurrent history for the linearizability checker: each operation's invocation and
 * completion time (`performance.now()`, ms) and its result, or that its outcome is unknown.
 */
import type { Operation, RegisterInput, RegisterOutput } from "./model.ts";

/** Collects operations as clients invoke and complete them. */
export class HistoryRecorder {
  private readonly ops = new Map<number, Operation>();
  private nextId = 0;

  /**
   * Notes that `client` invokes `input` on `key` now. Call the returned function once the answer
   * is in: with the output, or with undefined when the outcome is unknown (the operation may or
   * may not have taken effect: timeouts, connections lost after sending). Operations known not to
   * have happened (refused connections) are dropped by calling it with `"not-applied"`.
   */
  invoke(client: number, key: string, input: RegisterInput): (output: RegisterOutput | undefined | "not-applied") => void {
    const op: Operation = { id: this.nextId++, client, key, input, invokeMs: performance.now(), completeMs: Infinity };
    this.ops.set(op.id, op);
    return (output) => {
      if (output === "not-applied") {
        this.ops.delete(op.id);
        return;
      }
      if (output === undefined) return; // completeMs stays +∞
      op.output = output;
      op.completeMs = performance.now();
    };
  }

  /** The operations recorded so far, in invocation order (pending ones have `completeMs` +∞). */
  history(): Operation[] {
    return [...this.ops.values()];
  }
}
