/**
 * Durability across `kill -9`: 8 concurrent gRPC writers put keys and remember each acknowledged
 * key -> revision; the server is SIGKILLed mid-stream and restarted on the same data dir. Every
 * acknowledged put must be there with its mod_revision, and new writes get higher revisions.
 * (etcd acknowledges a put only after it is committed to the WAL and applied.)
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, grpcClients, text } from "./clients.ts";
import { cleanup, startEtcd } from "./harness.ts";

// Each test starts/stops real processes: allow more than bun's 5 s default.
setDefaultTimeout(60_000);

const WRITERS = 8;
const ACKS_BEFORE_KILL = 200;

afterAll(cleanup);

test("acknowledged puts survive kill -9 and revisions keep growing", async () => {
  const first = await startEtcd({ name: "crash" });
  const acked = new Map<string, { value: string; revision: bigint }>();
  const writerErrors: unknown[] = [];

  async function writer(w: number): Promise<void> {
    const { kv } = grpcClients(first.endpoint);
    for (let i = 0; ; i++) {
      const key = `/crash/w${w}/${String(i).padStart(6, "0")}`;
      const value = `value-${w}-${i}`;
      try {
        const r = await kv.put({ key: bytes(key), value: bytes(value) }, { timeoutMs: 15_000 });
        acked.set(key, { value, revision: r.header!.revision });
      } catch (e) {
        writerErrors.push(e);
        return; // the server is gone: this writer stops
      }
    }
  }

  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
  while (acked.size < ACKS_BEFORE_KILL && writerErrors.length === 0) await Bun.sleep(5);
  expect(writerErrors).toEqual([]); // nothing failed before the kill
  await first.kill9();
  await Promise.all(writers);
  expect(writerErrors).toHaveLength(WRITERS); // every writer saw the server die
  expect(acked.size).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

  const second = await startEtcd({
    name: "crash",
    dataDir: first.dataDir,
    clientPort: first.clientPort,
    peerPort: first.peerPort,
  });
  const { kv } = grpcClients(second.endpoint);
  const stored = await kv.range({ key: bytes("/crash/"), rangeEnd: bytes("/crash0") });
  const byKey = new Map(stored.kvs.map((kv) => [text(kv.key), { value: text(kv.value), revision: kv.modRevision }]));
  const missing = [...acked].filter(([k, a]) => {
    const s = byKey.get(k);
    return !s || s.value !== a.value || s.revision !== a.revision;
  });
  expect(missing).toEqual([]);

  const revisions = [...acked.values()].map((a) => a.revision);
  expect(new Set(revisions).size).toBe(revisions.length); // one revision per acknowledged put
  const maxAcked = revisions.reduce((a, b) => (a > b ? a : b));
  const next = await kv.put({ key: bytes("/crash/after"), value: bytes("x") });
  expect(next.header!.revision).toBeGreaterThan(maxAcked);
  expect(next.header!.revision).toBeGreaterThan(stored.header!.revision);
  const again = await kv.put({ key: bytes("/crash/after"), value: bytes("y") });
  expect(again.header!.revision).toBe(next.header!.revision + 1n);
});
