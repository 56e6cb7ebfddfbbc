/**
 * A small HPACK (RFC 7541) header block decoder, plus an encoder that writes literal fields
 * without indexing. Used only to repair requests whose `:authority` our HTTP/2 server would
 * refuse (server/http/authority-repair.ts); strings are "binary" strings (one char per octet).
 */
import { HUFFMAN_CODE_LENGTHS, HUFFMAN_CODES, STATIC_TABLE } from "./hpack-tables.ts";

/** One decoded header field; name and value are octet strings (latin1). */
export interface HeaderField {
  name: string;
  value: string;
}

/** A header block that is not valid HPACK. */
export class HpackError extends Error {}

/** Huffman symbols by code length, then code: `BY_LENGTH[len].get(code)`. */
const BY_LENGTH: Map<number, number>[] = (() => {
  const maps: Map<number, number>[] = [];
  for (let sym = 0; sym < 256; sym++) {
    const len = HUFFMAN_CODE_LENGTHS[sym]!;
    (maps[len] ??= new Map()).set(HUFFMAN_CODES[sym]!, sym);
  }
  return maps;
})();

/** Decodes a Huffman-coded string (RFC 7541 §5.2); padding must be a prefix of EOS (all ones, < 8 bits). */
function huffmanDecode(bytes: Uint8Array): string {
  let out = "";
  let code = 0;
  let len = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const sym = BY_LENGTH[len]?.get(code);
      if (sym !== undefined) {
        out += String.fromCharCode(sym);
        code = 0;
        len = 0;
      } else if (len > 30) {
        throw new HpackError("invalid Huffman code");
      }
    }
  }
  if (len > 7 || code !== 2 ** len - 1) throw new HpackError("invalid Huffman padding");
  return out;
}

/** Reads HPACK integers and strings from one header block. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(): number {
    if (this.done) throw new HpackError("truncated header block");
    return this.buf[this.pos]!;
  }

  /** An integer with an N-bit prefix (RFC 7541 §5.1). */
  integer(prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let value = this.peek() & max;
    this.pos++;
    if (value < max) return value;
    for (let shift = 0; ; shift += 7) {
      const b = this.peek();
      this.pos++;
      value += (b & 0x7f) * 2 ** shift;
      if (value > 2 ** 32) throw new HpackError("integer overflow");
      if ((b & 0x80) === 0) return value;
    }
  }

  /** A string literal (RFC 7541 §5.2). */
  string(): string {
    const huffman = (this.peek() & 0x80) !== 0;
    const length = this.integer(7);
    if (this.pos + length > this.buf.length) throw new HpackError("truncated string");
    const raw = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return huffman ? huffmanDecode(raw) : Buffer.from(raw).toString("latin1");
  }
}

/** Per-entry overhead in the dynamic table size (RFC 7541 §4.1), octets. */
const ENTRY_OVERHEAD = 32;

/**
 * Decodes header blocks of one connection direction, keeping the dynamic table between
 * blocks (RFC 7541 §2.3, §4). Throws HpackError on malformed input.
 */
export class HpackDecoder {
  private dynamic: HeaderField[] = []; // newest first
  private size = 0;
  private maxSize: number;

  /** `maxTableSize`: SETTINGS_HEADER_TABLE_SIZE the peer encodes against, octets (default 4096). */
  constructor(maxTableSize = 4096) {
    this.maxSize = maxTableSize;
  }

  private entry(index: number): HeaderField {
    if (index >= 1 && index <= STATIC_TABLE.length) {
      const [name, value] = STATIC_TABLE[index - 1]!;
      return { name, value };
    }
    const e = this.dynamic[index - STATIC_TABLE.length - 1];
    if (!e) throw new HpackError(`invalid header table index ${index}`);
    return e;
  }

  private evictTo(limit: number): void {
    while (this.size > limit) {
      const e = this.dynamic.pop()!;
      this.size -= e.name.length + e.value.length + ENTRY_OVERHEAD;
    }
  }

  private insert(f: HeaderField): void {
    const cost = f.name.length + f.value.length + ENTRY_OVERHEAD;
    this.evictTo(this.maxSize - cost);
    if (cost <= this.maxSize) {
      this.dynamic.unshift(f);
      this.size += cost;
    }
  }

  /** Decodes one complete header block (all HEADERS/CONTINUATION fragments joined). */
  decode(block: Uint8Array): HeaderField[] {
    const r = new Reader(block);
    const fields: HeaderField[] = [];
    while (!r.done) {
      const b = r.peek();
      if (b & 0x80) {
        fields.push(this.entry(r.integer(7))); // indexed field
      } else if (b & 0x40) {
        const index = r.integer(6); // literal with incremental indexing
        const name = index === 0 ? r.string() : this.entry(index).name;
        const f = { name, value: r.string() };
        this.insert(f);
        fields.push(f);
      } else if (b & 0x20) {
        this.maxSize = r.integer(5); // dynamic table size update
        this.evictTo(this.maxSize);
      } else {
        const index = r.integer(4); // literal without indexing / never indexed
        const name = index === 0 ? r.string() : this.entry(index).name;
        fields.push({ name, value: r.string() });
      }
    }
    return fields;
  }
}

function encodeInteger(out: number[], value: number, prefixBits: number, firstByte: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(firstByte | value);
    return;
  }
  out.push(firstByte | max);
  value -= max;
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/**
 * Encodes fields as "literal header field without indexing — new name" with plain (not
 * Huffman) strings (RFC 7541 §6.2.2), so the receiver's dynamic table is never touched.
 */
export function encodeWithoutIndexing(fields: readonly HeaderField[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    out.push(0x00);
    for (const s of [f.name, f.value]) {
      encodeInteger(out, s.length, 7, 0x00);
      for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
    }
  }
  return Uint8Array.from(out);
}
