/**
 * gRPC status helpers shared by the Connect router path and the lean unary path.
 * Source: gRPC over HTTP/2 (PROTOCOL-HTTP2.md, "grpc-message" percent-encoding).
 */

/** gRPC's percent-encoding of grpc-message: bytes outside 0x20–0x7E, and `%`, become `%XX`. */
export function grpcPercentEncode(s: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(s)) return s;
  return Array.from(new TextEncoder().encode(s), (b) =>
    b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
  ).join("");
}
