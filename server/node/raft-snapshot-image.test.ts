/**
 * The files behind Raft snapshots (./raft-snapshot-image.ts): the leader's image is a copy of
 * its backend read in chunks and removed on release; the follower's chunks land in a file
 * named by the snapshot index, renamed only when complete, removed when the transfer fails.
 */
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageType, type Message } from "../raft/types.ts";
import { openBackend } from "../storage/sqlite.ts";
import { incomingImage, outgoingImage, receivedImagePath } from "./raft-snapshot-image.ts";

const dir = mkdtempSync(join(tmpdir(), "raft-snapshot-image-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const msgSnap = (index: number): Message =>
  ({ type: MessageType.MsgSnap, to: 2n, from: 1n, term: 1, snapshot: { data: new Uint8Array(), metadata: { index, term: 1, confState: { voters: [1n, 2n], learners: [] } } } }) as unknown as Message;

test("leader image -> follower file: same bytes, an openable database, temporary files gone", async () => {
  const db = openBackend(join(dir, "leader"));
  db.run("CREATE TABLE t (v BLOB)");
  for (let i = 0; i < 300; i++) db.run("INSERT INTO t VALUES (?)", [new Uint8Array(10_000).fill(i & 0xff)]);
  const follower = join(dir, "follower-db");
  try {
    const image = await outgoingImage(db);
    expect(image.sizeBytes).toBeGreaterThan(3_000_000);
    const sink = incomingImage(follower, msgSnap(42));
    let pieces = 0;
    for await (const piece of image.read(1 << 20)) {
      expect(piece.length).toBeLessThanOrEqual(1 << 20);
      await sink.write(piece);
      pieces++;
    }
    expect(pieces).toBe(Math.ceil(image.sizeBytes / (1 << 20)));
    expect(existsSync(receivedImagePath(follower, 42))).toBe(false); // only complete images get the name
    expect(await sink.finish()).toEqual(new Uint8Array());
    image.release();
    expect(readdirSync(join(dir, "leader", "member")).filter((f) => f.includes(".snapshot-"))).toEqual([]);
    const got = new Database(receivedImagePath(follower, 42), { readonly: true });
    expect(got.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 300 });
    got.close();
  } finally {
    db.close();
  }
});

test("a failed transfer leaves no file on the follower", async () => {
  const follower = join(dir, "aborted-db");
  const sink = incomingImage(follower, msgSnap(7));
  await sink.write(new Uint8Array(1000));
  sink.abort();
  await Bun.sleep(50);
  expect(readdirSync(dir).filter((f) => f.startsWith("aborted-db"))).toEqual([]);
});
