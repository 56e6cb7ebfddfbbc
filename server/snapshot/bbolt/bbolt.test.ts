/**
 * The bbolt writer and reader: round trips through our own files, files written by the real
 * etcd 3.4 (`etcdctl snapshot save` against `/usr/bin/etcd`) read by our reader, and files we
 * write checked by Go's bbolt (`etcdctl snapshot status` runs bbolt's tx.Check, counts keys and
 * reads the last revision of the `key` bucket).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { placeEtcd, runProcess, startEtcd } from "../../../cli/testing/etcd-process.ts";
import { BRANCH_PAGE_FLAG, LEAF_PAGE_FLAG, readPageHeader } from "./format.ts";
import { FileSink } from "./file-sink.ts";
import { BboltReader } from "./reader.ts";
import { BboltWriter } from "./writer.ts";

const GO_ETCDCTL = "/usr/bin/etcdctl";
const dir = mkdtempSync(join(tmpdir(), "bbolt-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Writes buckets (name → ascending [key, value] pairs) to a new file; returns its path. */
function writeFile(name: string, buckets: [string, [Uint8Array, Uint8Array][]][]): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  try {
    const w = new BboltWriter(new FileSink(fd, 4096));
    for (const [bucket, kvs] of buckets) {
      const b = w.bucket(bucket);
      for (const [k, v] of kvs) b.put(k, v);
      w.endBucket();
    }
    w.finish();
  } finally {
    closeSync(fd);
  }
  return path;
}

/** etcd's revision key: main (8 bytes BE), '_', sub (8 bytes BE). */
function revKey(main: number, sub = 0): Uint8Array {
  const b = new Uint8Array(17);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(main));
  b[8] = 0x5f;
  dv.setBigUint64(9, BigInt(sub));
  return b;
}

function readAll(r: BboltReader, bucket: string): [string, string][] {
  return [...r.entries(bucket)].map((e) => [dec.decode(e.key), dec.decode(e.value)]);
}

describe("bbolt writer and reader", () => {
  test("round trip: many keys (branch levels), overflow values, inline and empty buckets", () => {
    const many: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 30000; i++) many.push([enc.encode(`key-${String(i).padStart(6, "0")}`), enc.encode(`value ${i}`)]);
    const big = "x".repeat(3 * 4096 + 17);
    const path = writeFile("roundtrip.db", [
      ["a-empty", []],
      ["b-small", [[enc.encode("k"), enc.encode("v")]]],
      ["c-many", many],
      ["d-big", [[enc.encode("a"), enc.encode("1")], [enc.encode("big"), enc.encode(big)], [enc.encode("c"), enc.encode("3")]]],
    ]);
    const r = BboltReader.open(path);
    try {
      expect(r.bucketNames()).toEqual(["a-empty", "b-small", "c-many", "d-big"]);
      expect(readAll(r, "a-empty")).toEqual([]);
      expect(readAll(r, "b-small")).toEqual([["k", "v"]]);
      const got = readAll(r, "c-many");
      expect(got.length).toBe(30000);
      expect(got[0]).toEqual(["key-000000", "value 0"]);
      expect(got[29999]).toEqual(["key-029999", "value 29999"]);
      expect(got.every(([k], i) => k === `key-${String(i).padStart(6, "0")}`)).toBe(true);
      expect(readAll(r, "d-big")).toEqual([["a", "1"], ["big", big], ["c", "3"]]);
      expect(r.size).toBe(readFileSync(path).length);
      // Small buckets are inline: the root leaf holds their pages.
      const root = [...r.rootEntries()];
      expect(root.map((e) => e.value.length > 16)).toEqual([true, true, false, false]);
      // c-many's tree has two branch levels.
      const rootPage = new DataView(root[2]!.value.buffer, root[2]!.value.byteOffset).getBigUint64(0, true);
      const page = readFileSync(path).subarray(Number(rootPage) * 4096);
      expect(readPageHeader(page).flags).toBe(BRANCH_PAGE_FLAG);
    } finally {
      r.close();
    }
  });

  test("check() finds what bbolt's tx.Check finds", () => {
    const path = writeFile("check.db", [["a", [[enc.encode("k"), enc.encode("v".repeat(2000))]]], ["b", [[enc.encode("k"), enc.encode("w".repeat(2000))]]]]);
    const ok = BboltReader.open(path);
    expect(ok.check()).toEqual([]);
    ok.close();
    const bytes = readFileSync(path);
    // Point bucket b's root at bucket a's page: a page referenced twice, one never referenced.
    const root = BboltReader.open(path);
    const [a, b] = [...root.rootEntries()];
    const aRoot = new DataView(a!.value.buffer, a!.value.byteOffset).getBigUint64(0, true);
    const bRoot = new DataView(b!.value.buffer, b!.value.byteOffset).getBigUint64(0, true);
    root.close();
    const rootPage = Number(root.meta.root) * 4096;
    const at = bytes.indexOf(Buffer.from(new BigUint64Array([bRoot]).buffer), rootPage);
    bytes.set(new Uint8Array(new BigUint64Array([aRoot]).buffer), at);
    writeFileSync(path, bytes);
    const bad = BboltReader.open(path);
    expect(bad.check()).toEqual([`page ${aRoot}: multiple references`, `page ${bRoot}: unreachable unfreed`]);
    bad.close();
  });

  test("pages leave as they fill: in increasing order, meta pages last", () => {
    const writes: number[] = [];
    const w = new BboltWriter({ writePages: (pgid) => void writes.push(pgid) });
    const b = w.bucket("k");
    for (let i = 0; i < 20000; i++) {
      b.put(enc.encode(`key-${String(i).padStart(6, "0")}`), enc.encode("v".repeat(40)));
      // 61 elements of 66 bytes fill a leaf: never more than the leaf being filled is held back.
      if (i > 0 && i % 1000 === 0) expect(writes.length).toBeGreaterThanOrEqual(Math.floor((i + 1) / 61));
    }
    w.endBucket();
    const pages = w.finish();
    expect(writes.slice(-3)).toEqual([2, 0, 1]);
    const data = writes.slice(0, -3);
    expect(data).toEqual([...data].sort((x, y) => x - y));
    expect(data[0]).toBe(3);
    expect(pages).toBe(data[data.length - 1]! + 1);
  });

  test("keys out of order are refused", () => {
    const fd = openSync(join(dir, "order.db"), "w");
    const w = new BboltWriter(new FileSink(fd, 4096));
    const b = w.bucket("x");
    b.put(enc.encode("b"), enc.encode(""));
    expect(() => b.put(enc.encode("a"), enc.encode(""))).toThrow("ascending");
    expect(() => b.put(new Uint8Array(0), enc.encode(""))).toThrow("key required");
    closeSync(fd);
  });

  test("a damaged meta page is skipped; both damaged is `invalid database`", () => {
    const path = writeFile("meta.db", [["k", [[enc.encode("a"), enc.encode("b")]]]]);
    const bytes = readFileSync(path);
    bytes[16 + 20] ^= 0xff; // meta 0's root pgid: checksum no longer matches
    writeFileSync(path, bytes);
    const r = BboltReader.open(path);
    expect(r.meta.txid).toBe(1n);
    expect(readAll(r, "k")).toEqual([["a", "b"]]);
    r.close();
    bytes.fill(0, 0, 8192);
    writeFileSync(path, bytes);
    expect(() => BboltReader.open(path)).toThrow("invalid database");
  });

  test("a truncated file is refused", () => {
    const path = writeFile("trunc.db", [["k", [[enc.encode("a"), enc.encode("b".repeat(5000))]]]]);
    writeFileSync(path, readFileSync(path).subarray(0, 3 * 4096));
    const r = BboltReader.open(path);
    expect(() => [...r.entries("k")]).toThrow("past the end of the file");
    // Bucket k's overflow leaf is pages 3-4, the root tree page 5: all missing.
    expect(r.check()).toEqual([
      "page 5: out of bounds: 6",
      "bbolt: read of 4096 bytes at 20480 past the end of the file (12288 bytes)",
      "page 3: unreachable unfreed",
      "page 4: unreachable unfreed",
      "page 5: unreachable unfreed",
    ]);
    r.close();
  });

  test("Go's bbolt (etcdctl snapshot status) checks and reads a file we wrote (three tree levels)", async () => {
    const keys: [Uint8Array, Uint8Array][] = [];
    // ~100 elements a leaf, ~120 a branch page: 2,000 leaves under 17 branch pages under the root.
    for (let i = 1; i <= 200_000; i++) keys.push([revKey(i), enc.encode(`v${i % 10}`)]);
    const path = writeFile("status.db", [
      ["alarm", []],
      ["key", keys],
      ["meta", [[enc.encode("consistent_index"), new Uint8Array(8)]]],
    ]);
    const res = await runProcess([GO_ETCDCTL], ["snapshot", "status", path, "-w", "json"], "", { ETCDCTL_API: "3" });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const status = JSON.parse(dec.decode(res.stdout)) as { revision: number; totalKey: number; totalSize: number };
    const r = BboltReader.open(path);
    expect(status).toMatchObject({ revision: 200_000, totalKey: 200_001, totalSize: r.size });
    expect([...r.entries("key")].length).toBe(200_000);
    const keyBucket = [...r.rootEntries()].find((e) => dec.decode(e.key) === "key")!;
    const root = new DataView(keyBucket.value.buffer, keyBucket.value.byteOffset).getBigUint64(0, true);
    const bytes = readFileSync(path);
    const rootPage = bytes.subarray(Number(root) * 4096);
    expect(readPageHeader(rootPage).flags).toBe(BRANCH_PAGE_FLAG);
    const child = new DataView(rootPage.buffer, rootPage.byteOffset).getBigUint64(16 + 8, true);
    expect(readPageHeader(bytes.subarray(Number(child) * 4096)).flags).toBe(BRANCH_PAGE_FLAG);
    r.close();
  });
});

describe("files written by the real etcd 3.4", () => {
  test("etcdctl snapshot save: buckets, keys, revisions, overflow values and leases read back", async () => {
    const etcd = await startEtcd(await placeEtcd());
    try {
      const url = `http://${etcd.endpoint}`;
      const b64 = (s: string) => Buffer.from(s).toString("base64");
      const grant = (await (await fetch(`${url}/v3/lease/grant`, { method: "POST", body: JSON.stringify({ TTL: 600, ID: 4660 }) })).json()) as { ID: string };
      expect(grant.ID).toBe("4660");
      for (let i = 0; i < 600; i++) {
        const body = { key: b64(`k${String(i).padStart(4, "0")}`), value: b64(i === 7 ? "B".repeat(9000) : `v${i}`), ...(i === 1 ? { lease: "4660" } : {}) };
        const res = await fetch(`${url}/v3/kv/put`, { method: "POST", body: JSON.stringify(body) });
        expect(res.status).toBe(200);
      }
      await fetch(`${url}/v3/kv/deleterange`, { method: "POST", body: JSON.stringify({ key: b64("k0002") }) });
      const file = join(dir, "real.db");
      const save = await runProcess([GO_ETCDCTL], ["--endpoints", etcd.endpoint, "snapshot", "save", file], "", { ETCDCTL_API: "3" });
      expect(save.code).toBe(0);

      const r = BboltReader.open(file);
      try {
        expect(r.bucketNames()).toEqual(["alarm", "auth", "authRoles", "authUsers", "cluster", "key", "lease", "members", "members_removed", "meta"]);
        const keys = [...r.entries("key")];
        // Revisions 2..601 are puts (revision 1 is the empty store), 602 the delete (a tombstone key ending in 't').
        expect(keys.length).toBe(601);
        const last = keys[keys.length - 1]!;
        expect(last.key.length).toBe(18);
        expect(last.key[17]).toBe(0x74);
        expect(new DataView(last.key.buffer, last.key.byteOffset).getBigUint64(0)).toBe(602n);
        const bigOne = keys.find((e) => e.value.length > 9000);
        expect(bigOne).toBeDefined();
        expect(dec.decode(r.entries("lease").next().value!.key)).toBe("\0\0\0\0\0\0\x12\x34");
        expect(dec.decode(r.entries("cluster").next().value!.value)).toBe("3.4.0");
        expect(r.meta.freelist).toBe(0xffffffffffffffffn);
        // Real etcd's trees have branch pages at this size.
        const keyBucket = [...r.rootEntries()].find((e) => dec.decode(e.key) === "key")!;
        const root = new DataView(keyBucket.value.buffer, keyBucket.value.byteOffset).getBigUint64(0, true);
        const page = readFileSync(file).subarray(Number(root) * r.pageSize);
        expect(readPageHeader(page).flags & (BRANCH_PAGE_FLAG | LEAF_PAGE_FLAG)).toBe(BRANCH_PAGE_FLAG);
        const status = await runProcess([GO_ETCDCTL], ["snapshot", "status", file, "-w", "json"], "", { ETCDCTL_API: "3" });
        const s = JSON.parse(dec.decode(status.stdout)) as { revision: number; totalKey: number; totalSize: number };
        let total = 0;
        for (const name of r.bucketNames()) total += [...r.entries(name)].length;
        expect(s).toMatchObject({ revision: 602, totalKey: total, totalSize: r.size });
      } finally {
        r.close();
      }
    } finally {
      await etcd.stop();
    }
  }, 60_000);
});
