/**
 * The cancellation a KV handler hands to the member (EtcdServerApi's `signal`): the handler
 * context's own cheap one when it offers one (the lean unary gRPC path, server/http/grpc-unary.ts,
 * which builds an AbortSignal only when `ctx.signal` is read), else Connect's `ctx.signal`.
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
