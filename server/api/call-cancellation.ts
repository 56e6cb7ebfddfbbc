/**
 * The cancellation a KV handler hands to the member (EtcdServerApi's `signal`): the handler
 * context's own cheap one when it offers one (the lean unary gRPC path, server/http/grpc-unary.ts,
 * which builds an AbortSignal only when `ctx.signal` is read), else Connect's `ctx.signal`. Also
 * {@link ListenerCancellation}, that cheap one without an AbortController and event target.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { Cancellation } from "../node/types.ts";

/** A handler context that carries a Cancellation cheaper than its AbortSignal. */
export interface CancellableContext {
  readonly cancellation?: Cancellation;
}

/** The call's cancellation: aborted once its client went away (reset the stream, closed the connection). */
export function callCancellation(ctx: HandlerContext): Cancellation {
  return (ctx as HandlerContext & CancellableContext).cancellation ?? ctx.signal;
}

/**
 * A Cancellation without an AbortController and event target per request: an `aborted` flag and
 * the listeners, run once by {@link abort}. The member adds one listener per proposal, so there
 * is one slot, and a list only for more. Used by the lean unary gRPC context
 * (server/http/grpc-unary.ts) and the v2 keys HTTP/1.1 fast path (server/http/v2/keys-node.ts).
 */
export class ListenerCancellation implements Cancellation {
  /** True once {@link abort} ran. */
  aborted = false;
  private listener: (() => void) | undefined;
  private moreListeners: (() => void)[] | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.listener === undefined) this.listener = listener;
    else (this.moreListeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
    else if (this.moreListeners) {
      const i = this.moreListeners.indexOf(listener);
      if (i >= 0) this.moreListeners.splice(i, 1);
    }
  }

  /** Marks it aborted and runs the listeners, once; later calls do nothing. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const first = this.listener;
    const more = this.moreListeners;
    this.listener = this.moreListeners = undefined;
    first?.();
    if (more) for (const listener of more) listener();
  }
}
