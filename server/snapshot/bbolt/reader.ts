/**
 * A read-only bbolt file reader: opens a database file (e.g. an etcd snapshot, whose trailing
 * SHA-256 is ignored as bbolt ignores it), picks the meta page as bbolt does, and walks bucket
 * trees in key order reading pages on demand (memory: the tree height times the page size).
 * Handles branch and leaf pages, overflow pages and inline buckets. Runs under Bun and Deno
 * (node:fs only).
 *
 * Errors are thrown as Error with bbolt's text where bbolt has one (`invalid database`,
 * `version mismatch`, `checksum error`) and `bbolt: ...` for structural damage (a page
 * outside the file, a page of the wrong type, a bad element).
 * Source: bbolt db.go (Open, meta), page.go, cursor.go, bucket.go (openBucket, inline pages).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import {
  BRANCH_ELEMENT_SIZE,
  BRANCH_PAGE_FLAG,
  BUCKET_HEADER_SIZE,
  BUCKET_LEAF_FLAG,
  DEFAULT_PAGE_SIZE,
  LEAF_ELEMENT_SIZE,
  LEAF_PAGE_FLAG,
  type Meta,
  PAGE_HEADER_SIZE,
  readBucketHeader,
  readMeta,
  readPageHeader,
  validateMeta,
} from "./format.ts";

/** One key/value of a bucket. `bucket` is true when the value is a nested bucket. */
export type Entry = { key: Uint8Array; value: Uint8Array; bucket: boolean };

/** Where a tree starts: a page of the file, or an inline page held in a bucket value. */
type TreeRoot = { pgid: bigint } | { inline: Uint8Array };

/** Opened bbolt file; {@link close} when done. */
export class BboltReader {
  /** The meta in use (the valid one with the higher txid). */
  readonly meta: Meta;
  readonly pageSize: number;
  private readonly fileSize: number;

  private constructor(
    private readonly fd: number,
    meta: Meta,
    fileSize: number,
  ) {
    this.meta = meta;
    this.pageSize = meta.pageSize;
    this.fileSize = fileSize;
  }

  /** Opens `path` read-only. Throws `invalid database` etc. (see the module comment). */
  static open(path: string): BboltReader {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      const meta = pickMeta(fd, size);
      if (meta.pgid * BigInt(meta.pageSize) > BigInt(size)) {
        throw new Error(`bbolt: file size ${size} is smaller than its ${meta.pgid} pages`);
      }
      return new BboltReader(fd, meta, size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Size of the database the meta describes: pages × page size, bytes (bbolt's tx.Size()). */
  get size(): number {
    return Number(this.meta.pgid) * this.pageSize;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Reads page `pgid` with its overflow pages. */
  private page(pgid: bigint): Uint8Array {
    if (pgid < 2n || pgid >= this.meta.pgid) throw new Error(`bbolt: page ${pgid} out of range (high water mark ${this.meta.pgid})`);
    const off = Number(pgid) * this.pageSize;
    const head = readAt(this.fd, off, this.pageSize, this.fileSize);
    const h = readPageHeader(head);
    if (h.id !== pgid) throw new Error(`bbolt: page ${pgid} has id ${h.id}`);
    if (h.overflow === 0) return head;
    if (pgid + BigInt(h.overflow) >= this.meta.pgid) throw new Error(`bbolt: page ${pgid} overflows past the high water mark`);
    return readAt(this.fd, off, (h.overflow + 1) * this.pageSize, this.fileSize);
  }

  /** Entries of the root bucket: one per top-level bucket (`bucket` true), in key order. */
  *rootEntries(): IterableIterator<Entry> {
    yield* this.walk({ pgid: this.meta.root });
  }

  /** Names of the top-level buckets, in byte order. */
  bucketNames(): string[] {
    const names: string[] = [];
    const dec = new TextDecoder();
    for (const e of this.rootEntries()) if (e.bucket) names.push(dec.decode(e.key));
    return names;
  }

  /** Finds a top-level bucket's value, or undefined. */
  private bucketValue(name: string): Uint8Array | undefined {
    const want = new TextEncoder().encode(name);
    for (const e of this.rootEntries()) {
      if (e.bucket && equalBytes(e.key, want)) return e.value;
    }
    return undefined;
  }

  /** Whether top-level bucket `name` exists. */
  hasBucket(name: string): boolean {
    return this.bucketValue(name) !== undefined;
  }

  /** Entries of top-level bucket `name` in key order; nothing when it does not exist. */
  *entries(name: string): IterableIterator<Entry> {
    const value = this.bucketValue(name);
    if (value) yield* this.bucketEntries(value);
  }

  /** Entries of the bucket whose value (header, maybe with an inline page) is `value`. */
  *bucketEntries(value: Uint8Array): IterableIterator<Entry> {
    const { root } = readBucketHeader(value);
    yield* this.walk(root === 0n ? { inline: value.subarray(BUCKET_HEADER_SIZE) } : { pgid: root });
  }

  /** The last entry of top-level bucket `name` (etcd's revision lookup), or undefined. */
  last(name: string): Entry | undefined {
    let last: Entry | undefined;
    for (const e of this.entries(name)) last = e;
    return last;
  }

  private *walk(root: TreeRoot, depth = 0): IterableIterator<Entry> {
    if (depth > 64) throw new Error("bbolt: tree too deep");
    const page = "inline" in root ? root.inline : this.page(root.pgid);
    if (page.length < PAGE_HEADER_SIZE) throw new Error("bbolt: truncated page");
    const h = readPageHeader(page);
    const dv = new DataView(page.buffer, page.byteOffset, page.length);
    if (h.flags & LEAF_PAGE_FLAG) {
      for (let i = 0; i < h.count; i++) {
        const el = PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE;
        check(el + LEAF_ELEMENT_SIZE <= page.length, "leaf element outside its page");
        const flags = dv.getUint32(el, true);
        const pos = el + dv.getUint32(el + 4, true);
        const ksize = dv.getUint32(el + 8, true);
        const vsize = dv.getUint32(el + 12, true);
        check(pos + ksize + vsize <= page.length, "leaf data outside its page");
        yield {
          key: page.subarray(pos, pos + ksize),
          value: page.subarray(pos + ksize, pos + ksize + vsize),
          bucket: (flags & BUCKET_LEAF_FLAG) !== 0,
        };
      }
    } else if (h.flags & BRANCH_PAGE_FLAG) {
      check(!("inline" in root), "inline branch page");
      for (let i = 0; i < h.count; i++) {
        const el = PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE;
        check(el + BRANCH_ELEMENT_SIZE <= page.length, "branch element outside its page");
        yield* this.walk({ pgid: dv.getBigUint64(el + 8, true) }, depth + 1);
      }
    } else {
      throw new Error(`bbolt: page ${h.id} is not a leaf or branch page (flags ${h.flags})`);
    }
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bbolt: ${what}`);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads `len` bytes at `off`; throws when the file is shorter. */
function readAt(fd: number, off: number, len: number, fileSize: number): Uint8Array {
  if (off + len > fileSize) throw new Error(`bbolt: read of ${len} bytes at ${off} past the end of the file (${fileSize} bytes)`);
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const n = readSync(fd, buf, done, len - done, off + done);
    if (n === 0) throw new Error("bbolt: unexpected end of file");
    done += n;
  }
  return buf;
}

/**
 * bbolt's Open + meta(): the page size comes from meta page 0 (or, when it is damaged, the
 * default); of the two metas the valid one with the higher txid is used.
 */
function pickMeta(fd: number, size: number): Meta {
  if (size < PAGE_HEADER_SIZE + 64) throw new Error("invalid database");
  const first = readAt(fd, 0, Math.min(size, DEFAULT_PAGE_SIZE), size);
  let pageSize = DEFAULT_PAGE_SIZE;
  if (validateMeta(first) === undefined) pageSize = readMeta(first).pageSize;
  const pages: Uint8Array[] = [first];
  if (size >= pageSize + PAGE_HEADER_SIZE + 64) pages.push(readAt(fd, pageSize, Math.min(pageSize, size - pageSize), size));
  const metas = pages.map((p) => ({ err: validateMeta(p), meta: readMeta(p) }));
  metas.sort((a, b) => (a.meta.txid > b.meta.txid ? -1 : a.meta.txid < b.meta.txid ? 1 : 0));
  const ok = metas.find((m) => m.err === undefined);
  if (!ok) throw new Error(metas[0]!.err ?? "invalid database");
  if (ok.meta.pageSize !== pageSize) throw new Error("invalid database");
  return ok.meta;
}
