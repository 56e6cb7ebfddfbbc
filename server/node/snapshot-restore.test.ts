import { expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { deleteReq, kvTuple, putReq, rangeReq, tempStores, useFirstKvLayout } from "../mvcc/testing.ts";
import { receivedImagePath } from "./raft-snapshot-image.ts";
import { attachSnapshotImage, copyStateFromImage } from "./snapshot-restore.ts";

const open = tempStores();

test("an image whose kv table orders its columns differently (value last) is copied by column name", () => {
  const leader = open();
  leader.store.put(putReq("a", "1", { lease: 0n }));
  leader.store.put(putReq("b", "two"));
  leader.store.deleteRange(deleteReq("a"));
  leader.store.put(putReq("a", "again"));
  leader.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  // The follower's file has kv's first layout (value before create_revision).
  const follower = open();
  useFirstKvLayout(follower.db);
  copyFileSync(leader.db.filename, receivedImagePath(follower.db.filename, 7));
  const image = attachSnapshotImage(follower.db, 7);
  try {
    follower.db.transaction(() => copyStateFromImage(follower.db))();
  } finally {
    image.detach();
  }
  follower.reopen();
  const all = (s: typeof leader) => s.store.range(rangeReq("\0", "\0")).kvs.map(kvTuple);
  expect(all(follower)).toEqual(all(leader));
  expect(all(follower)).toEqual([
    ["a", "again", 5, 5, 1],
    ["b", "two", 3, 3, 1],
  ]);
});
