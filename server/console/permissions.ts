/**
 * What the web console lets a user try (pure functions): the console hides the edit controls of
 * keys the user's roles do not let them write (etcd's permission ranges, authpb.Permission).
 */
import { compareBytes } from "./tree.ts";

/** A permission's key range as etcd stores it: `end` empty = the key alone; `[0]` = every key from `key` on. */
export interface KeyRange {
  key: Uint8Array;
  end: Uint8Array;
}

/** Whether `key` may be written: by an admin (root role, or auth disabled), or when one of `writable` covers it. */
export function canWrite(admin: boolean, writable: readonly KeyRange[], key: Uint8Array): boolean {
  if (admin) return true;
  return writable.some((r) => {
    if (r.end.length === 0) return compareBytes(key, r.key) === 0;
    if (compareBytes(key, r.key) < 0) return false;
    return (r.end.length === 1 && r.end[0] === 0) || compareBytes(key, r.end) < 0;
  });
}
