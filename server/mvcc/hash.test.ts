import { expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { KV_COLUMNS } from "../storage/schema.ts";
import { deleteReq, kvTuple, putReq, rangeReq, tempStores, useFirstKvLayout, type TempStore } from "./testing.ts";
import { HASH_PAGE_ROWS, hashBackend, hashKV } from "./hash.ts";

const open = tempStores();

/** 2 a=1, 3 a=2, 4 b=1, 5 delete b, 6 c=1, 7 c=2, 8 delete c, 9 b=again. */
function history(t: TempStore) {
  const s = t.store;
  s.put(putReq("a", "1"));
  s.put(putReq("a", "2"));
  s.put(putReq("b", "1"));
  s.deleteRange(deleteReq("b"));
  s.put(putReq("c", "1"));
  s.put(putReq("c", "2"));
  s.deleteRange(deleteReq("c"));
  s.put(putReq("b", "again"));
}

async function errorOf(p: Promise<unknown>): Promise<[Code, string] | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    const c = e as { code: Code; rawMessage: string };
    return [c.code, c.rawMessage];
  }
}

test("HashKV(rev) depends on the history and the compact revision only: equal on stores that applied the same writes and compactions", async () => {
  const one = open();
  const two = open();
  history(one);
  history(two);
  const at9 = await hashKV(one.store, 9);
  const at7 = await hashKV(one.store, 7);
  expect(at9).toEqual({ hash: at9.hash, revision: 9, compactRevision: 0 });
  expect(at7.hash).not.toBe(at9.hash);
  expect((await hashKV(two.store, 0)).hash).toBe(at9.hash);
  for (const c of [3, 6]) {
    one.store.compact(c);
    two.store.compact(c);
    const after = await hashKV(one.store, 9);
    expect(after.compactRevision).toBe(c);
    expect(after.hash).not.toBe(at9.hash);
    expect((await hashKV(two.store, 9)).hash).toBe(after.hash);
    expect((await hashKV(two.store, 7)).hash).toBe((await hashKV(one.store, 7)).hash);
  }
  expect(await errorOf(hashKV(one.store, 6))).toEqual([Code.OutOfRange, "etcdserver: mvcc: required revision has been compacted"]);
  expect(await errorOf(hashKV(one.store, 10))).toEqual([Code.OutOfRange, "etcdserver: mvcc: required revision is a future revision"]);
});

test("a different value changes HashKV and Hash; writes above rev do not change HashKV(rev)", async () => {
  const one = open();
  const two = open();
  history(one);
  history(two);
  expect(hashBackend(one.db)).toBe(hashBackend(two.db));
  two.store.put(putReq("a", "x"));
  expect(hashBackend(one.db)).not.toBe(hashBackend(two.db));
  expect((await hashKV(two.store, 9)).hash).toBe((await hashKV(one.store, 9)).hash);
  one.store.put(putReq("a", "y"));
  expect((await hashKV(two.store, 10)).hash).not.toBe((await hashKV(one.store, 10)).hash);
});

test("a long history is read over several turns, with writes in between", async () => {
  const t = open();
  const n = HASH_PAGE_ROWS * 2 + 5;
  t.db.transaction(() => {
    for (let i = 0; i < n; i++) t.store.put(putReq(`k${i % 100}`, `v${i}`));
  })();
  const sync = await hashKV(t.store, 0);
  let turns = 0;
  const paged = await hashKV(t.store, sync.revision, (fn) => {
    turns++;
    t.store.put(putReq("later", String(turns)));
    setImmediate(fn);
  });
  expect(turns).toBe(2);
  expect(paged.hash).toBe(sync.hash);
});

test("a data file with kv's first column order (value before create_revision) restores, reads and hashes like a new one", async () => {
  const fresh = open();
  const old = open();
  // Recreate old's kv table in the first layout (KV_COLUMNS order), then reopen the store over it.
  useFirstKvLayout(old.db);
  old.reopen();
  const columns = (t: TempStore) => t.db.query<{ name: string }, []>("PRAGMA table_info(kv)").all().map((c) => c.name);
  expect(columns(old)).toEqual([...KV_COLUMNS]);
  expect(columns(fresh).at(-1)).toBe("value");
  history(fresh);
  history(old);
  fresh.reopen();
  old.reopen();
  const all = (t: TempStore) => t.store.range(rangeReq("\0", "\0")).kvs.map(kvTuple);
  expect(all(old)).toEqual(all(fresh));
  expect(all(old).length).toBe(2);
  expect(hashBackend(old.db)).toBe(hashBackend(fresh.db));
  expect((await hashKV(old.store, 0)).hash).toBe((await hashKV(fresh.store, 0)).hash);
});
