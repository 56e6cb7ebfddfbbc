/**
 * A streaming bbolt file writer: builds a fresh, compact bbolt database from keys given in
 * ascending order, writing each page as soon as it is full, so memory stays bounded by the
 * tree height times the page size whatever the number of keys (only one bucket is open at a
 * time, plus the small root tree listing the buckets).
 *
 * Layout written: pages 0 and 1 meta (written last, by {@link BboltWriter.finish}), page 2 an
 * empty freelist, then each bucket's pages bottom-up (leaves, then branches), the root tree's
 * pages last. Leaves and branches are filled up to the page size (a page holds at least one
 * element; a larger element makes an overflow page). A bucket whose whole content fits in a
 * quarter page is stored inline in its parent, as bbolt does (bucket.go inlineable).
 * Readers: bbolt itself (etcd, etcdctl snapshot status/restore) and ./reader.ts.
 * Source: bbolt page.go, node.go (write), bucket.go (write, inlineable), tx.go (WriteTo).
 */
import {
  BRANCH_ELEMENT_SIZE,
  BRANCH_PAGE_FLAG,
  BUCKET_LEAF_FLAG,
  DEFAULT_PAGE_SIZE,
  encodeBucketHeader,
  encodeMetaPage,
  FREELIST_PAGE_FLAG,
  LEAF_ELEMENT_SIZE,
  LEAF_PAGE_FLAG,
  PAGE_HEADER_SIZE,
  writePageHeader,
} from "./format.ts";

/**
 * Where pages go: `bytes` (a whole number of pages) belongs at page `pgid` (offset
 * pgid*pageSize). `bytes` is valid only during the call (the writer reuses its page buffer, so
 * a large snapshot leaves no page garbage behind): write or copy it before returning.
 */
export interface PageSink {
  writePages(pgid: number, bytes: Uint8Array): void;
}

/** A zeroed buffer of `size` bytes at offset 0 of its ArrayBuffer. */
type Alloc = (size: number) => Uint8Array;
const fresh: Alloc = (size) => new Uint8Array(size);

/** bbolt's limit on a key (bucket.go MaxKeySize), bytes. */
export const MAX_KEY_SIZE = 32768;

/**
 * A leaf element. Its value is `size` bytes: `value` itself, or written by `fill` at offset `at`
 * of the page being encoded (so a large value is copied once, straight into the page); with
 * neither, zeros (a layout pass, where only sizes matter).
 */
type LeafEntry = { flags: number; key: Uint8Array; size: number; value?: Uint8Array; fill?: ValueFill };
/** Writes an element's value into `page` at offset `at`. */
export type ValueFill = (page: Uint8Array, at: number) => void;
type BranchEntry = { key: Uint8Array; pgid: number };

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Pages of `size` bytes of content (at least one). */
function pagesFor(size: number, pageSize: number): number {
  return Math.max(1, Math.ceil(size / pageSize));
}

/** Bytes of a leaf page's content (header + elements + data). */
function leafSize(entries: LeafEntry[]): number {
  let size = PAGE_HEADER_SIZE + entries.length * LEAF_ELEMENT_SIZE;
  for (const e of entries) size += e.key.length + e.size;
  return size;
}

/** Bytes of a branch page's content. */
function branchSize(entries: BranchEntry[]): number {
  let size = PAGE_HEADER_SIZE + entries.length * BRANCH_ELEMENT_SIZE;
  for (const e of entries) size += e.key.length;
  return size;
}

/** Encodes a leaf page (header + elements + data), padded to whole pages unless `inline`. */
function encodeLeaf(entries: LeafEntry[], pgid: number, pageSize: number, inline: boolean, alloc: Alloc = fresh): Uint8Array {
  const size = leafSize(entries);
  const pages = pagesFor(size, pageSize);
  const buf = alloc(inline ? size : pages * pageSize);
  writePageHeader(buf, { id: BigInt(pgid), flags: LEAF_PAGE_FLAG, count: entries.length, overflow: inline ? 0 : pages - 1 });
  const dv = new DataView(buf.buffer);
  let data = PAGE_HEADER_SIZE + entries.length * LEAF_ELEMENT_SIZE;
  entries.forEach((e, i) => {
    const el = PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE;
    dv.setUint32(el, e.flags, true);
    dv.setUint32(el + 4, data - el, true);
    dv.setUint32(el + 8, e.key.length, true);
    dv.setUint32(el + 12, e.size, true);
    buf.set(e.key, data);
    if (e.value) buf.set(e.value, data + e.key.length);
    else e.fill?.(buf, data + e.key.length);
    data += e.key.length + e.size;
  });
  return buf;
}

/** Encodes a branch page, padded to whole pages. */
function encodeBranch(entries: BranchEntry[], pgid: number, pageSize: number, alloc: Alloc = fresh): Uint8Array {
  const pages = pagesFor(branchSize(entries), pageSize);
  const buf = alloc(pages * pageSize);
  writePageHeader(buf, { id: BigInt(pgid), flags: BRANCH_PAGE_FLAG, count: entries.length, overflow: pages - 1 });
  const dv = new DataView(buf.buffer);
  let data = PAGE_HEADER_SIZE + entries.length * BRANCH_ELEMENT_SIZE;
  entries.forEach((e, i) => {
    const el = PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE;
    dv.setUint32(el, data - el, true);
    dv.setUint32(el + 4, e.key.length, true);
    dv.setBigUint64(el + 8, BigInt(e.pgid), true);
    buf.set(e.key, data);
    data += e.key.length;
  });
  return buf;
}

/**
 * Builds one B+tree bottom-up from ascending keys. Level 0 collects leaf entries, level i>0
 * the (first key, page) of each full page of level i-1.
 */
class TreeBuilder {
  private leaf: LeafEntry[] = [];
  private leafSize = PAGE_HEADER_SIZE;
  private leavesWritten = 0;
  /** branches[i]: entries of the page being filled at branch level i+1, with its size and pages written. */
  private readonly branches: { entries: BranchEntry[]; size: number; written: number }[] = [];
  private last: Uint8Array | undefined;

  constructor(private readonly w: BboltWriter) {}

  /** Adds one element; keys strictly ascending. Throws Error for empty, too long or out-of-order keys. */
  add(e: LeafEntry): void {
    if (e.key.length === 0) throw new Error("bbolt: key required");
    if (e.key.length > MAX_KEY_SIZE) throw new Error("bbolt: key too large");
    if (this.last && compareBytes(this.last, e.key) >= 0) throw new Error("bbolt: keys must be added in ascending order");
    this.last = e.key;
    const esize = LEAF_ELEMENT_SIZE + e.key.length + e.size;
    if (this.leaf.length > 0 && this.leafSize + esize > this.w.pageSize) this.flushLeaf();
    this.leaf.push(e);
    this.leafSize += esize;
  }

  /** True while everything added fits in one leaf of at most `limit` bytes (never written yet). */
  fitsInline(limit: number): boolean {
    return this.leavesWritten === 0 && this.leafSize <= limit;
  }

  /** The leaf built so far, as an inline page (only when {@link fitsInline}). */
  inlinePage(): Uint8Array {
    return encodeLeaf(this.leaf, 0, this.w.pageSize, true);
  }

  private flushLeaf(): void {
    const first = this.leaf[0]!.key;
    const leaf = this.leaf;
    const pgid = this.w.writePage(this.leafSize, (id) => encodeLeaf(leaf, id, this.w.pageSize, false, this.w.pageBuffer));
    this.leaf = [];
    this.leafSize = PAGE_HEADER_SIZE;
    this.leavesWritten++;
    this.addBranch(0, { key: first, pgid });
  }

  private addBranch(level: number, e: BranchEntry): void {
    let b = this.branches[level];
    if (!b) {
      b = { entries: [], size: PAGE_HEADER_SIZE, written: 0 };
      this.branches[level] = b;
    }
    const esize = BRANCH_ELEMENT_SIZE + e.key.length;
    if (b.entries.length > 0 && b.size + esize > this.w.pageSize) this.flushBranch(level);
    b.entries.push(e);
    b.size += esize;
  }

  private flushBranch(level: number): void {
    const b = this.branches[level]!;
    const first = b.entries[0]!.key;
    const entries = b.entries;
    const pgid = this.w.writePage(b.size, (id) => encodeBranch(entries, id, this.w.pageSize, this.w.pageBuffer));
    b.entries = [];
    b.size = PAGE_HEADER_SIZE;
    b.written++;
    this.addBranch(level + 1, { key: first, pgid });
  }

  /** Writes the remaining pages and returns the root page. */
  finish(): number {
    if (this.leavesWritten === 0) {
      const leaf = this.leaf;
      return this.w.writePage(this.leafSize, (id) => encodeLeaf(leaf, id, this.w.pageSize, false, this.w.pageBuffer));
    }
    if (this.leaf.length > 0) this.flushLeaf();
    for (let level = 0; ; level++) {
      const b = this.branches[level]!;
      const top = level === this.branches.length - 1;
      if (top && b.written === 0) {
        const entries = b.entries;
        return this.w.writePage(b.size, (id) => encodeBranch(entries, id, this.w.pageSize, this.w.pageBuffer));
      }
      if (b.entries.length > 0) this.flushBranch(level);
    }
  }
}

/**
 * One bucket being filled: {@link put} keys in ascending byte order (bbolt's order), then
 * {@link BboltWriter.endBucket}. Keys are 1..32768 bytes.
 */
export class BucketWriter {
  /** @internal */
  readonly tree: TreeBuilder;

  /** @internal */
  constructor(w: BboltWriter) {
    this.tree = new TreeBuilder(w);
  }

  /** Adds `key` = `value`. Throws Error when keys are not ascending, empty or longer than 32768 bytes. */
  put(key: Uint8Array, value: Uint8Array): void {
    this.tree.add({ flags: 0, key, size: value.length, value });
  }

  /**
   * Adds `key` with a value of `size` bytes that `fill` writes straight into the page (no
   * intermediate copy; `fill` is not called by a layout-only writer). Errors as {@link put}.
   */
  putWith(key: Uint8Array, size: number, fill: ValueFill): void {
    this.tree.add({ flags: 0, key, size, fill });
  }
}

/**
 * Writes a bbolt file of top-level buckets (no nested buckets) to a {@link PageSink}.
 * Usage: `const b = w.bucket(name); b.put(k, v)...; w.endBucket(); ...; w.finish()`; bucket
 * names ascending. Pages reach the sink in increasing page order except the two meta pages,
 * written by finish(); the file is `pageCount * pageSize` bytes.
 */
export class BboltWriter {
  /** Page size, bytes. */
  readonly pageSize: number;
  private next = 3;
  private readonly root: TreeBuilder;
  private open: { name: Uint8Array; bucket: BucketWriter } | undefined;
  private finished = false;

  /** True: only the layout is computed; the sink gets the freelist and meta pages only. */
  readonly layoutOnly: boolean;

  /**
   * `opts.layoutOnly`: compute the page layout without encoding data pages (values given to
   * {@link BucketWriter.putWith} are never filled): the sink receives just the pages finish()
   * writes (freelist and metas), which are the same as a full run over the same keys and sizes
   * would write. A streaming reader can send those first (./../stream.ts).
   */
  constructor(
    private readonly sink: PageSink,
    opts: { pageSize?: number; layoutOnly?: boolean } = {},
  ) {
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    this.layoutOnly = opts.layoutOnly ?? false;
    this.root = new TreeBuilder(this);
  }

  private scratch = new Uint8Array(0);

  /** @internal The reused page buffer (see PageSink): `size` zeroed bytes, valid until the next call. */
  readonly pageBuffer: Alloc = (size) => {
    if (this.scratch.length < size) this.scratch = new Uint8Array(Math.max(size, 2 * this.scratch.length));
    return this.scratch.subarray(0, size).fill(0);
  };

  /** Pages allocated so far (the high water mark once finished). */
  get pageCount(): number {
    return this.next;
  }

  /**
   * @internal Allocates the pages for `size` bytes of content and writes them, encoded by
   * `encode` (not called by a layout-only writer); returns the first page id.
   */
  writePage(size: number, encode: (pgid: number) => Uint8Array): number {
    const pgid = this.next;
    this.next += pagesFor(size, this.pageSize);
    if (!this.layoutOnly) this.sink.writePages(pgid, encode(pgid));
    return pgid;
  }

  /** Starts the next top-level bucket. Throws if one is open or names are not ascending. */
  bucket(name: string | Uint8Array): BucketWriter {
    if (this.open || this.finished) throw new Error("bbolt: a bucket is still open");
    const bucket = new BucketWriter(this);
    this.open = { name: typeof name === "string" ? new TextEncoder().encode(name) : name, bucket };
    return bucket;
  }

  /** Closes the open bucket: writes its last pages, or keeps it inline when it fits in a quarter page. */
  endBucket(): void {
    const o = this.open;
    if (!o) throw new Error("bbolt: no open bucket");
    this.open = undefined;
    let value: Uint8Array;
    if (o.bucket.tree.fitsInline(this.pageSize / 4)) {
      const page = o.bucket.tree.inlinePage();
      value = new Uint8Array(16 + page.length);
      value.set(encodeBucketHeader(0n), 0);
      value.set(page, 16);
    } else {
      value = encodeBucketHeader(BigInt(o.bucket.tree.finish()));
    }
    this.root.add({ flags: BUCKET_LEAF_FLAG, key: o.name, size: value.length, value });
  }

  /**
   * Writes the root tree, the empty freelist (page 2) and both meta pages (txid `txid` on page
   * 0, `txid - 1` on page 1, as bbolt's tx.WriteTo). Returns the page count.
   */
  finish(txid = 2n): number {
    if (this.open) throw new Error("bbolt: a bucket is still open");
    this.finished = true;
    const root = this.root.finish();
    const freelist = new Uint8Array(this.pageSize);
    writePageHeader(freelist, { id: 2n, flags: FREELIST_PAGE_FLAG, count: 0, overflow: 0 });
    this.sink.writePages(2, freelist);
    const m = { root: BigInt(root), freelist: 2n, pgid: BigInt(this.next) };
    this.sink.writePages(0, encodeMetaPage(this.pageSize, 0, { ...m, txid }));
    this.sink.writePages(1, encodeMetaPage(this.pageSize, 1, { ...m, txid: txid - 1n }));
    return this.next;
  }
}
