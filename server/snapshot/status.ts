/**
 * `etcdctl snapshot status <file>`: the hash, revision, key count and size of a snapshot file,
 * computed as etcdctl 3.4 does (clientv3/snapshot/v3_snapshot.go Status): bbolt's consistency
 * check first; then a CRC-32C (Castagnoli) over every top-level bucket's name and, in key
 * order, each key and value (a nested bucket's value counts as empty); the revision is the
 * main revision of the last key of the `key` bucket; the size is bbolt's tx.Size() (pages ×
 * page size, without the appended SHA-256). Runs under Bun and Deno.
 */
import { Crc32c } from "@aws-crypto/crc32c";
import { statSync } from "node:fs";
import { goPathError } from "../../cli/go/errno.ts";
import { BboltReader } from "./bbolt/reader.ts";
import { parseRevisionKey } from "./etcd-schema.ts";

/** etcdctl's snapshot.Status (JSON field names as etcdctl prints them). */
export type SnapshotStatus = { hash: number; revision: number; totalKey: number; totalSize: number };

const dec = new TextDecoder();

/**
 * Reads the status of snapshot `path`. Throws Error with etcdctl's text:
 * `stat <path>: no such file or directory` (a missing file), `invalid database`,
 * `version mismatch`, `checksum error` (bad meta pages),
 * `snapshot file integrity check failed. <n> errors found.\n<errors, one a line>` (bbolt's
 * check failed, e.g. a truncated file).
 */
export function snapshotStatus(path: string): SnapshotStatus {
  try {
    statSync(path);
  } catch (e) {
    throw new Error(goPathError("stat", path, e));
  }
  const r = BboltReader.open(path);
  try {
    const errors = r.check();
    if (errors.length > 0) {
      throw new Error(`snapshot file integrity check failed. ${errors.length} errors found.\n${errors.join("\n")}`);
    }
    const h = new Crc32c();
    let revision = 0;
    let totalKey = 0;
    for (const bucket of r.rootEntries()) {
      const name = dec.decode(bucket.key);
      if (!bucket.bucket) throw new Error(`cannot get hash of bucket ${name}`);
      h.update(bucket.key);
      const isKey = name === "key";
      for (const e of r.bucketEntries(bucket.value)) {
        h.update(e.key);
        if (!e.bucket) h.update(e.value);
        if (isKey) revision = parseRevisionKey(e.key).main;
        totalKey++;
      }
    }
    return { hash: h.digest() >>> 0, revision, totalKey, totalSize: r.size };
  } finally {
    r.close();
  }
}
