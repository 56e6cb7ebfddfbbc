/**
 * Checks RPC request bodies before Connect parses them, so that oversize and malformed
 * requests get grpc-go's codes and messages (what etcd's clients see from etcd 3.4) in all
 * three protocols, instead of Connect's own texts:
 *
 * - a message longer than the receive limit (`--max-request-bytes` + 512 KiB, etcd's
 *   grpcOverheadBytes in etcdserver/api/v3rpc/grpc.go):
 *   ResourceExhausted `grpc: received message larger than max (<len> vs. <limit>)`;
 * - a binary message that does not decode as the method's request type:
 *   Internal `grpc: error unmarshalling request: <decoder error>`;
 * - a body that ends inside a length-prefixed message: Unknown `unexpected EOF`;
 * - a unary call whose body holds no message at all: Unknown `EOF`.
 *
 * Sizes are checked from the 5-byte envelope header (gRPC, gRPC-Web, Connect streaming) or
 * from Content-Length / bytes read (Connect unary), before the message is buffered.
 */
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { joinChunks } from "./join-chunks.ts";

/** How a request body is framed and encoded, from its Content-Type. */
export interface BodyFormat {
  /** Length-prefixed messages (gRPC, gRPC-Web, Connect streaming) rather than one raw message. */
  enveloped: boolean;
  /** Protobuf binary (true) or JSON (false). */
  binary: boolean;
}

/**
 * Classifies a request Content-Type the way Connect's protocol handlers do; `undefined` for
 * types no Connect handler accepts (they are left to Connect to refuse).
 */
export function bodyFormat(contentType: string | null | undefined): BodyFormat | undefined {
  const t = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  switch (t) {
    case "application/grpc":
    case "application/grpc+proto":
    case "application/grpc-web":
    case "application/grpc-web+proto":
    case "application/connect+proto":
      return { enveloped: true, binary: true };
    case "application/grpc+json":
    case "application/grpc-web+json":
    case "application/connect+json":
      return { enveloped: true, binary: false };
    case "application/proto":
      return { enveloped: false, binary: true };
    case "application/json":
      return { enveloped: false, binary: false };
    default:
      return undefined;
  }
}

/** grpc-go's text for a message over the server's receive limit. */
export function tooLargeError(length: number, limit: number): ConnectError {
  return new ConnectError(`grpc: received message larger than max (${length} vs. ${limit})`, Code.ResourceExhausted);
}

/** Options of {@link guardRequestBody}. */
export interface GuardOptions {
  format: BodyFormat;
  /** Largest message in bytes. */
  limit: number;
  /** Request type used to check binary messages. */
  input: DescMessage;
  /** True for unary and server-streaming methods (exactly one request message). */
  singleRequest: boolean;
  /** Content-Length header, if sent. */
  contentLength?: number;
}

const COMPRESSED_FLAG = 0x01;

/** grpc-go's Internal error for a request message that does not decode, e.g. `grpc: error unmarshalling request: premature EOF`. */
export function unmarshalError(cause: unknown): ConnectError {
  return new ConnectError(`grpc: error unmarshalling request: ${cause instanceof Error ? cause.message : String(cause)}`, Code.Internal);
}

function checkDecodes(input: DescMessage, bytes: Uint8Array): void {
  try {
    fromBinary(input, bytes);
  } catch (e) {
    throw unmarshalError(e);
  }
}

/**
 * Wraps a request body; yields the same bytes (re-chunked per message) and throws the
 * ConnectErrors listed in the module doc. Messages are passed on as soon as they are
 * complete, so streaming calls keep streaming.
 */
export async function* guardRequestBody(body: AsyncIterable<Uint8Array>, opts: GuardOptions): AsyncGenerator<Uint8Array> {
  const { format, limit, input } = opts;
  if (!format.enveloped) {
    if (opts.contentLength !== undefined && opts.contentLength > limit) throw tooLargeError(opts.contentLength, limit);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of body) {
      total += chunk.length;
      if (total > limit) {
        // No Content-Length: read to the end to report the message's real size, as grpc-go does.
        for await (const rest of body) total += rest.length;
        throw tooLargeError(total, limit);
      }
      chunks.push(chunk);
    }
    const message = joinChunks(chunks, total);
    if (format.binary) checkDecodes(input, message);
    yield message;
    return;
  }
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let messages = 0;
  let need = 5; // bytes needed for the next step: a header, then header + payload
  let payloadLength = -1;
  for await (const chunk of body) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= need) {
      const buf = joinChunks(pending, pendingBytes);
      pending = [buf];
      if (payloadLength < 0) {
        payloadLength = new DataView(buf.buffer, buf.byteOffset, 5).getUint32(1);
        if (payloadLength > limit) throw tooLargeError(payloadLength, limit);
        need = 5 + payloadLength;
        continue;
      }
      const frame = buf.subarray(0, need);
      if (format.binary && (frame[0]! & COMPRESSED_FLAG) === 0) checkDecodes(input, frame.subarray(5));
      messages++;
      const rest = buf.subarray(need);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
      need = 5;
      payloadLength = -1;
      yield frame;
    }
  }
  if (pendingBytes > 0) throw new ConnectError("unexpected EOF", Code.Unknown);
  if (opts.singleRequest && messages === 0) throw new ConnectError("EOF", Code.Unknown);
}
