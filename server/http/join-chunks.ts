/**
 * One array of received chunks' bytes: used where a body or an envelope arrives in pieces
 * (server/http/request-guard.ts, server/transport/stream-wire.ts). `total` is the chunks' summed
 * length, bytes; a single chunk is returned as it is (no copy).
 */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
