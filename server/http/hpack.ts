/**
 * HPACK (RFC 7541) header blocks, through the `hpack.js` library: a stateful decoder for one
 * connection's blocks, and an encoder that writes literal fields without indexing. Used only
 * to repair requests whose `:authority` our HTTP/2 server would refuse
 * (server/http/authority-repair.ts).
 */
import hpack from "hpack.js";

/** One decoded header field. */
export interface HeaderField {
  name: string;
  value: string;
}

/** A header block that is not valid HPACK. */
export class HpackError extends Error {}

/** HTTP/2's default SETTINGS_HEADER_TABLE_SIZE, octets (RFC 9113 §6.5.2). */
const TABLE_SIZE = 4096;

/**
 * Decodes the header blocks of one connection in order (the dynamic table carries over
 * between blocks, as on the wire). Throws HpackError for a malformed or truncated block.
 */
export class HpackDecoder {
  private readonly decompressor = hpack.decompressor.create({ table: { size: TABLE_SIZE } });

  /** Decodes one complete header block. */
  decode(block: Uint8Array): HeaderField[] {
    const d = this.decompressor;
    let failure: unknown;
    const onError = (e: unknown) => {
      failure = e;
    };
    d.write(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
    // Without a callback, execute() reports a decoding error synchronously as an 'error' event.
    d.once("error", onError);
    d.execute();
    d.off("error", onError);
    const fields: HeaderField[] = [];
    let item: { name: string; value: string } | null;
    while ((item = d.read() as { name: string; value: string } | null) !== null) {
      fields.push({ name: item.name, value: item.value });
    }
    if (failure || !(d as unknown as { _decoder: { isEmpty(): boolean } })._decoder.isEmpty()) {
      throw new HpackError(`malformed header block: ${String(failure ?? "trailing bytes")}`);
    }
    return fields;
  }
}

/** Encodes `fields` as literals without indexing, so the receiver's dynamic table stays empty. */
export function encodeWithoutIndexing(fields: readonly HeaderField[]): Uint8Array {
  const compressor = hpack.compressor.create({ table: { size: TABLE_SIZE } });
  compressor.write(fields.map((f) => ({ name: f.name, value: f.value, incremental: false, huffman: false })));
  const parts: Buffer[] = [];
  let chunk: Buffer | null;
  while ((chunk = compressor.read() as Buffer | null) !== null) parts.push(chunk);
  return Buffer.concat(parts);
}
