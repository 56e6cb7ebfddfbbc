/**
 * Byte-level UTF-8 decoding with Go's rules (`unicode/utf8`), needed where etcdctl formats raw key
 * and value bytes (`%q`, JSON strings): invalid sequences decode to one error rune per byte.
 */

/** Go's `utf8.RuneError` (U+FFFD). */
export const RUNE_ERROR = 0xfffd;

/**
 * Decodes the rune starting at `bytes[i]` like Go's `utf8.DecodeRune`.
 * @returns `[rune, size]`; `[RUNE_ERROR, 1]` for an invalid, overlong or surrogate encoding.
 */
export function decodeRune(bytes: Uint8Array, i: number): [number, number] {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return [b0, 1];
  const cont = (k: number) => i + k < bytes.length && (bytes[i + k]! & 0xc0) === 0x80;
  if (b0 >= 0xc2 && b0 <= 0xdf && cont(1)) return [((b0 & 0x1f) << 6) | (bytes[i + 1]! & 0x3f), 2];
  if (b0 >= 0xe0 && b0 <= 0xef && cont(1) && cont(2)) {
    const r = ((b0 & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
    if (r >= 0x800 && (r < 0xd800 || r > 0xdfff)) return [r, 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4 && cont(1) && cont(2) && cont(3)) {
    const r =
      ((b0 & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
    if (r >= 0x10000 && r <= 0x10ffff) return [r, 4];
  }
  return [RUNE_ERROR, 1];
}

const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/**
 * Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space
 * (other Unicode spaces are not printable). Table version is the JS engine's Unicode data.
 */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  return GRAPHIC.test(String.fromCodePoint(r));
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string (keys, values and names travel as bytes on the wire). */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

const decoder = new TextDecoder();

/** Decodes UTF-8 bytes; invalid sequences become U+FFFD (as Go's string conversion of a rune loop). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
