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
  FREELIST_PAGE_FLAG,
  LEAF_ELEMENT_SIZE,
  LEAF_PAGE_FLAG,
  type Meta,
  META_PAGE_FLAG,
  PAGE_HEADER_SIZE,
  PGID_NO_FREELIST,
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
      // A file shorter than its pages (truncated) still opens, as in bbolt: reading a missing
      // page fails, and check() reports them.
      return new BboltReader(fd, pickMeta(fd, size), size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Size of the database the meta describes: pages × page size, bytes (bbolt's tx.Size()). */
  get size(): number {
    return Number(this.meta.pgid) * this.pageSize;
  }

  /** Closes the file; the reader (and iterators still open on it) must not be used afterwards. */
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

  /**
   * bbolt's tx.Check: every page below the high water mark is reachable exactly once (meta,
   * freelist, bucket trees) or free, and tree pages are branch or leaf pages. Returns the
   * problems in bbolt's words (`page 7: unreachable unfreed`, `page 5: multiple references`,
   * `page 3: invalid type: meta`, `page 9: out of bounds: 8`, `page 4: already freed`,
   * `page 4: reachable freed`); empty when consistent. Without a stored freelist (etcd's
   * NoFreelistSync) the free pages are the unreachable ones, as bbolt rebuilds them.
   */
  check(): string[] {
    const errors: string[] = [];
    const high = this.meta.pgid;
    const freed = new Set<bigint>();
    const reachable = new Set<bigint>([0n, 1n]);
    const synced = this.meta.freelist !== PGID_NO_FREELIST;
    if (synced) {
      const fl = this.rawPage(this.meta.freelist);
      if (!fl) {
        errors.push(`page ${this.meta.freelist}: out of bounds: ${high}`);
      } else {
        const h = readPageHeader(fl.head);
        for (let i = 0n; i <= BigInt(h.overflow); i++) reachable.add(this.meta.freelist + i);
        for (const id of freelistIds(fl.bytes)) {
          if (freed.has(id)) errors.push(`page ${id}: already freed`);
          freed.add(id);
        }
      }
    }
    const visitTree = (pgid: bigint, depth: number) => {
      const p = this.rawPage(pgid);
      if (!p || depth > 64) {
        errors.push(`page ${pgid}: out of bounds: ${high}`);
        return;
      }
      const h = readPageHeader(p.head);
      if (h.id > high) errors.push(`page ${h.id}: out of bounds: ${high}`);
      for (let i = 0n; i <= BigInt(h.overflow); i++) {
        if (reachable.has(h.id + i)) errors.push(`page ${h.id + i}: multiple references`);
        reachable.add(h.id + i);
      }
      if (freed.has(h.id)) errors.push(`page ${h.id}: reachable freed`);
      else if ((h.flags & (BRANCH_PAGE_FLAG | LEAF_PAGE_FLAG)) === 0) errors.push(`page ${h.id}: invalid type: ${pageType(h.flags)}`);
      if (h.flags & BRANCH_PAGE_FLAG) {
        const dv = new DataView(p.bytes.buffer, p.bytes.byteOffset, p.bytes.length);
        for (let i = 0; i < h.count && PAGE_HEADER_SIZE + (i + 1) * BRANCH_ELEMENT_SIZE <= p.bytes.length; i++) {
          visitTree(dv.getBigUint64(PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE + 8, true), depth + 1);
        }
      }
    };
    const visitBucket = (value: Uint8Array) => {
      const { root } = readBucketHeader(value);
      if (root === 0n) return; // inline buckets hold no pages
      visitTree(root, 0);
      for (const e of this.bucketEntries(value)) if (e.bucket) visitBucket(e.value);
    };
    try {
      visitTree(this.meta.root, 0);
      for (const e of this.rootEntries()) if (e.bucket) visitBucket(e.value);
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
    if (synced) {
      for (let i = 0n; i < high; i++) if (!reachable.has(i) && !freed.has(i)) errors.push(`page ${i}: unreachable unfreed`);
    }
    return errors;
  }

  /** Page `pgid` without checks (its header and its bytes with overflow), or undefined past the end of the file. */
  private rawPage(pgid: bigint): { head: Uint8Array; bytes: Uint8Array } | undefined {
    const off = Number(pgid) * this.pageSize;
    if (off + this.pageSize > this.fileSize) return undefined;
    const head = readAt(this.fd, off, this.pageSize, this.fileSize);
    const overflow = readPageHeader(head).overflow;
    if (overflow === 0) return { head, bytes: head };
    const len = (overflow + 1) * this.pageSize;
    if (off + len > this.fileSize) return { head, bytes: head };
    return { head, bytes: readAt(this.fd, off, len, this.fileSize) };
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

/** bbolt's page.typ(). */
function pageType(flags: number): string {
  if (flags & BRANCH_PAGE_FLAG) return "branch";
  if (flags & LEAF_PAGE_FLAG) return "leaf";
  if (flags & META_PAGE_FLAG) return "meta";
  if (flags & FREELIST_PAGE_FLAG) return "freelist";
  return `unknown<${flags.toString(16).padStart(2, "0")}>`;
}

/** The page IDs of a freelist page (bbolt freelist.read: a count of 0xFFFF means the first u64 holds it). */
function freelistIds(page: Uint8Array): bigint[] {
  const h = readPageHeader(page);
  const dv = new DataView(page.buffer, page.byteOffset, page.length);
  let count = h.count;
  let at = PAGE_HEADER_SIZE;
  if (count === 0xffff) {
    count = Number(dv.getBigUint64(at, true));
    at += 8;
  }
  const ids: bigint[] = [];
  for (let i = 0; i < count && at + 8 * (i + 1) <= page.length; i++) ids.push(dv.getBigUint64(at + 8 * i, true));
  return ids;
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
