/**
 * gRPC status helpers shared by the Connect router path and the lean unary path.
 * Source: gRPC over HTTP/2 (PROTOCOL-HTTP2.md, "grpc-message" percent-encoding, Trailers-Only).
 */
import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";

/** gRPC's percent-encoding of grpc-message: bytes outside 0x20–0x7E, and `%`, become `%XX`. */
export function grpcPercentEncode(s: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(s)) return s;
  return Array.from(new TextEncoder().encode(s), (b) =>
    b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
  ).join("");
}

/**
 * Answers a gRPC (or gRPC-Web) call with a status and no message, as grpc-go does for unknown
 * services and methods and for calls refused before any message: over HTTP/2 one HEADERS frame
 * with END_STREAM carrying `:status 200`, `content-type`, `grpc-status` and `grpc-message`
 * (a "Trailers-Only" response, PROTOCOL-HTTP2.md); over HTTP/1.1 (gRPC-Web) the same headers and
 * an empty body. A status in headers of a stream that then ends with a DATA frame is not a
 * status to gRPC clients (grpc-go: "server closed the stream without sending trailers",
 * grpc-js: "Call ended without gRPC status"). Does nothing once headers were sent.
 * `contentType` is the request's, e.g. `application/grpc+proto` (parameters dropped).
 */
export function answerGrpcStatusOnly(res: ServerResponse | Http2ServerResponse, code: number, message: string, contentType = "application/grpc"): void {
  if (res.headersSent) return;
  const headers = {
    "content-type": contentType.split(";")[0]!.trim() || "application/grpc",
    "grpc-status": String(code),
    "grpc-message": grpcPercentEncode(message),
  };
  if ("stream" in res && res.stream) {
    if (res.stream.destroyed || res.stream.closed) return;
    res.stream.respond({ ":status": 200, ...headers }, { endStream: true });
    return;
  }
  (res as ServerResponse).writeHead(200, headers);
  res.end();
}
