/**
 * bbolt's on-disk format (go.etcd.io/bbolt v1.3, the version etcd 3.4 uses): page header,
 * meta page, leaf/branch elements and bucket headers, all little-endian on amd64.
 *
 * Layout of a file: page 0 and page 1 are meta pages (the valid one with the higher txid
 * wins), then freelist, branch, leaf and overflow pages. A page is `pageSize` bytes; a page
 * whose content is larger spans `overflow` further contiguous pages.
 * Source: bbolt page.go, db.go (meta, validate, sum64), bucket.go (bucket, inline buckets).
 */

/** Bytes of a page header: id u64, flags u16, count u16, overflow u32. */
export const PAGE_HEADER_SIZE = 16;
/** Bytes of a leaf element: flags u32, pos u32, ksize u32, vsize u32. */
export const LEAF_ELEMENT_SIZE = 16;
/** Bytes of a branch element: pos u32, ksize u32, pgid u64. */
export const BRANCH_ELEMENT_SIZE = 16;
/** Bytes of a bucket header: root pgid u64, sequence u64. */
export const BUCKET_HEADER_SIZE = 16;
/** Bytes of a meta record (after the page header); the checksum covers the first 56. */
export const META_SIZE = 64;

/** page.flags: the page's type. */
export const BRANCH_PAGE_FLAG = 0x01;
export const LEAF_PAGE_FLAG = 0x02;
export const META_PAGE_FLAG = 0x04;
export const FREELIST_PAGE_FLAG = 0x10;
/** Leaf element flag: the value is a bucket (header, maybe followed by an inline page). */
export const BUCKET_LEAF_FLAG = 0x01;

/** bbolt's magic number, meta.magic. */
export const MAGIC = 0xed0cdaed;
/** The data file format version, meta.version. */
export const VERSION = 2;
/** meta.freelist when the freelist is not written (etcd's NoFreelistSync on Linux). */
export const PGID_NO_FREELIST = 0xffffffffffffffffn;
/** etcd's page size (the OS page size on amd64). */
export const DEFAULT_PAGE_SIZE = 4096;

/** A page header. `id` is the page number; `overflow` counts the extra pages it spans. */
export type PageHeader = { id: bigint; flags: number; count: number; overflow: number };

/** The meta record of page 0 or 1. Page numbers and txids are uint64. */
export type Meta = {
  magic: number;
  version: number;
  pageSize: number;
  flags: number;
  /** Page of the root bucket's tree (the tree whose leaf values are the top-level buckets). */
  root: bigint;
  /** Root bucket sequence. */
  sequence: bigint;
  /** Freelist page, or {@link PGID_NO_FREELIST}. */
  freelist: bigint;
  /** High water mark: number of pages the file uses. */
  pgid: bigint;
  txid: bigint;
  checksum: bigint;
};

/** Reads the page header at `off` of `buf`. */
export function readPageHeader(buf: Uint8Array, off = 0): PageHeader {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, PAGE_HEADER_SIZE);
  return {
    id: dv.getBigUint64(0, true),
    flags: dv.getUint16(8, true),
    count: dv.getUint16(10, true),
    overflow: dv.getUint32(12, true),
  };
}

/** Writes a page header at `off` of `buf`. */
export function writePageHeader(buf: Uint8Array, h: PageHeader, off = 0): void {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, PAGE_HEADER_SIZE);
  dv.setBigUint64(0, h.id, true);
  dv.setUint16(8, h.flags, true);
  dv.setUint16(10, h.count, true);
  dv.setUint32(12, h.overflow, true);
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const U64 = 0xffffffffffffffffn;

/** FNV-1a 64-bit hash (Go's hash/fnv New64a), used for the meta checksum. */
export function fnv64a(bytes: Uint8Array): bigint {
  let h = FNV64_OFFSET;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * FNV64_PRIME) & U64;
  }
  return h;
}

/** Decodes the meta record that follows the page header of a meta page (`page` holds the whole page). */
export function readMeta(page: Uint8Array): Meta {
  const dv = new DataView(page.buffer, page.byteOffset + PAGE_HEADER_SIZE, META_SIZE);
  return {
    magic: dv.getUint32(0, true),
    version: dv.getUint32(4, true),
    pageSize: dv.getUint32(8, true),
    flags: dv.getUint32(12, true),
    root: dv.getBigUint64(16, true),
    sequence: dv.getBigUint64(24, true),
    freelist: dv.getBigUint64(32, true),
    pgid: dv.getBigUint64(40, true),
    txid: dv.getBigUint64(48, true),
    checksum: dv.getBigUint64(56, true),
  };
}

/** The checksum bbolt stores in a meta: FNV-1a 64 of the first 56 bytes of the record. */
export function metaChecksum(page: Uint8Array): bigint {
  return fnv64a(page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE - 8));
}

/**
 * bbolt's meta.validate: the error text for a bad meta page (`invalid database`, `version
 * mismatch`, `checksum error`, bbolt errors.go), or undefined when it is valid.
 */
export function validateMeta(page: Uint8Array): string | undefined {
  const m = readMeta(page);
  if (m.magic !== MAGIC) return "invalid database";
  if (m.version !== VERSION) return "version mismatch";
  if (m.checksum !== 0n && m.checksum !== metaChecksum(page)) return "checksum error";
  return undefined;
}

/**
 * A whole meta page (`pageSize` bytes) for page `id` (0 or 1) with the checksum filled in
 * (bbolt meta.write / tx.WriteTo).
 */
export function encodeMetaPage(
  pageSize: number,
  id: 0 | 1,
  m: { root: bigint; freelist: bigint; pgid: bigint; txid: bigint; sequence?: bigint },
): Uint8Array {
  const page = new Uint8Array(pageSize);
  writePageHeader(page, { id: BigInt(id), flags: META_PAGE_FLAG, count: 0, overflow: 0 });
  const dv = new DataView(page.buffer, PAGE_HEADER_SIZE, META_SIZE);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, pageSize, true);
  dv.setUint32(12, 0, true);
  dv.setBigUint64(16, m.root, true);
  dv.setBigUint64(24, m.sequence ?? 0n, true);
  dv.setBigUint64(32, m.freelist, true);
  dv.setBigUint64(40, m.pgid, true);
  dv.setBigUint64(48, m.txid, true);
  dv.setBigUint64(56, metaChecksum(page), true);
  return page;
}

/** Encodes a bucket header {root, sequence} (16 bytes). */
export function encodeBucketHeader(root: bigint, sequence = 0n): Uint8Array {
  const b = new Uint8Array(BUCKET_HEADER_SIZE);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, root, true);
  dv.setBigUint64(8, sequence, true);
  return b;
}

/** Decodes a bucket header from the start of a bucket value. Throws on a value shorter than 16 bytes. */
export function readBucketHeader(value: Uint8Array): { root: bigint; sequence: bigint } {
  if (value.length < BUCKET_HEADER_SIZE) throw new Error("bbolt: bucket value shorter than its header");
  const dv = new DataView(value.buffer, value.byteOffset, BUCKET_HEADER_SIZE);
  return { root: dv.getBigUint64(0, true), sequence: dv.getBigUint64(8, true) };
}
