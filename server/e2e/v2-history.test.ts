/**
 * The v2 watch history survives a restart and `kill -9`, as etcd 3.4's does (its v2 snapshot
 * holds the watcher hub's EventHistory and the WAL entries after it are applied again at
 * start-up): the server under test and the real etcd 3.4 get the same writes (more than the
 * 1000 events kept), are killed or stopped and started again on their data dirs, and must give
 * the same answers to the same `?wait=true&waitIndex=N` requests, before and after, including
 * the `401 event index cleared` just before the history's start. A lagging follower that got a
 * Raft snapshot answers from the history too: see v2-durability.test.ts.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { cleanup, startEtcd, type EtcdProcess } from "./harness.ts";

setDefaultTimeout(180_000);
afterAll(cleanup);

const REAL_ETCD = process.env.E2E_REFERENCE_ETCD_BIN ?? "/usr/bin/etcd";
const FORM = { "content-type": "application/x-www-form-urlencoded" };
/** Events written: more than the 1000 kept, so the oldest have left the history. */
const WRITES = 1_050;

/** One server (the binary it runs: ours when undefined) and the index before its first write (indexes are compared relative to it). */
interface Side {
  proc: EtcdProcess;
  bin: string | undefined;
  base: number;
}

async function v2(proc: EtcdProcess, method: string, key: string, body?: string): Promise<Response> {
  return fetch(`${proc.endpoint}/v2/keys${key}`, { method, body, headers: body === undefined ? {} : FORM });
}

/** The writes, the same on both sides: sets, a TTL key, a refresh, directories, in-order keys, deletes. */
async function write(proc: EtcdProcess): Promise<number> {
  const first = (await (await v2(proc, "PUT", "/first", "value=0")).json()) as { node: { modifiedIndex: number } };
  await v2(proc, "PUT", "/ttl", "value=t&ttl=600");
  await v2(proc, "PUT", "/ttl", "ttl=900&refresh=true&prevExist=true");
  await v2(proc, "PUT", "/dir/a", "value=1");
  await v2(proc, "POST", "/queue", "value=q");
  for (let i = 0; i < WRITES; i++) {
    const res = await v2(proc, "PUT", `/k${i % 7}`, `value=${i}`);
    expect(res.status === 200 || res.status === 201).toBe(true);
  }
  await v2(proc, "PUT", "/ttl2", "value=u&ttl=600");
  await v2(proc, "PUT", "/ttl2", "value=v&ttl=700&prevValue=u");
  await v2(proc, "PUT", "/dir/b", "value=2");
  await v2(proc, "DELETE", "/dir?recursive=true");
  await v2(proc, "PUT", "/k0", "value=last");
  return first.node.modifiedIndex - 1;
}

/** The waits asked, for a store whose index is `top` and whose first write was `base` + 1; each is answered at once or refused. */
function waits(base: number, top: number): string[] {
  const start = top - 999; // the oldest index still in history
  const q = (key: string, n: number, extra = "") => `${key}?wait=true&waitIndex=${n}${extra}`;
  return [
    q("/k3", start - 1),
    q("/k3", start),
    q("/k3", start + 1),
    q("/k5", start + 10),
    q("/", start + 1, "&recursive=true"),
    q("/", start + 500, "&recursive=true"),
    q("/ttl2", top - 3),
    q("/dir/a", top - 10),
    q("/dir", top - 10, "&recursive=true"),
    q("/k0", top - 3),
    q("/", base + 1, "&recursive=true"),
  ];
}

/** The answer to a wait as compared: status, X-Etcd-Index and body, indexes relative to the base; the TTL countdown apart. */
async function answer(side: Side, path: string): Promise<{ text: string; ttls: number[] }> {
  const res = await fetch(`${side.proc.endpoint}/v2/keys${path}`, { signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  const rel = (n: string) => String(Number(n) - side.base);
  const ttls = [...body.matchAll(/"ttl":(-?\d+)/g)].map((m) => Number(m[1]));
  const text = `${res.status} ${rel(res.headers.get("x-etcd-index") ?? "0")} ${body
    .replace(/"expiration":"[^"]*"/g, '"expiration":"<time>"')
    .replace(/"ttl":-?\d+/g, '"ttl":<n>')
    .replace(/"(modifiedIndex|createdIndex|index)":(\d+)/g, (_, k, n) => `"${k}":${rel(n)}`)
    .replace(/cleared \[(\d+)\/(\d+)\]/g, (_, a, b) => `cleared [${rel(a)}/${rel(b)}]`)
    .replace(/\/(0\d{19})/g, (_, n) => `/<in-order ${rel(n)}>`)}`;
  return { text, ttls };
}

/** The store's index now (X-Etcd-Index of a read). */
async function storeIndex(side: Side): Promise<number> {
  return Number((await v2(side.proc, "GET", "/first")).headers.get("x-etcd-index"));
}

/** The answers to `paths` on one side. */
function answers(side: Side, paths: string[]): Promise<{ text: string; ttls: number[] }[]> {
  return Promise.all(paths.map((p) => answer(side, p)));
}

async function restart(side: Side, kill: boolean): Promise<Side> {
  const p = side.proc;
  if (kill) await p.kill9();
  else await p.stop();
  const proc = await startEtcd({ bin: side.bin, name: p.name, extraArgs: ["--enable-v2"], dataDir: p.dataDir, clientPort: p.clientPort, peerPort: p.peerPort });
  return { ...side, proc };
}

const texts = (list: { text: string }[]) => list.map((a) => a.text);
/** 401 for `event index cleared` (a 400 answer with errorCode 401), else the HTTP status. */
const status = (text: string) => (text.includes('"errorCode":401') ? 401 : Number(text.slice(0, 3)));

for (const kill of [true, false]) {
  test(`after ${kill ? "kill -9" : "a restart"} a wait in the last 1000 events is answered as before, as by etcd 3.4`, async () => {
    let sides: Side[] = await Promise.all(
      [undefined, REAL_ETCD].map(async (bin) => {
        const proc = await startEtcd({ name: bin ? "ref" : "ours", bin, extraArgs: ["--enable-v2"] });
        return { proc, bin, base: await write(proc) };
      }),
    );
    const [ours, ref] = sides as [Side, Side];
    expect(ours.base).toBe(ref.base);
    const top = (await storeIndex(ours)) - ours.base;
    expect((await storeIndex(ref)) - ref.base).toBe(top);
    const asked = (s: Side) => waits(s.base, s.base + top);
    const before = await Promise.all(sides.map((s) => answers(s, asked(s))));
    expect(texts(before[0]!)).toEqual(texts(before[1]!));
    // The oldest wait is older than the history, the next ones are answered from it.
    expect([before[0]![0]!.text, before[0]![1]!.text].map(status)).toEqual([401, 200]);

    await Bun.sleep(1_100); // so that a TTL counted again at start-up is smaller
    sides = await Promise.all(sides.map((s) => restart(s, kill)));
    const after = await Promise.all(sides.map((s) => answers(s, asked(s))));
    expect(texts(after[0]!)).toEqual(texts(after[1]!));
    if (process.env.V2_HISTORY_PRINT) console.log(texts(before[0]!).join("\n") + "\n--\n" + texts(after[0]!).join("\n"));
    // A restarted member publishes its attributes again: one more event, which pushes the oldest
    // one out of history; every other wait gets the event it got before the restart.
    expect(status(after[0]![1]!.text)).toBe(401);
    const event = (t: string) => t.replace(/^200 \d+ /, "");
    expect(texts(after[0]!).slice(2, -1).map(event)).toEqual(texts(before[0]!).slice(2, -1).map(event));
    // As etcd applies its WAL again at start-up, the TTLs in those events are counted from then.
    for (const i of [0, 1]) {
      const was = before[i]![6]!.ttls;
      const now = after[i]![6]!.ttls;
      expect(now.length).toBe(2);
      expect(now.every((t, j) => t < was[j]!)).toBe(true);
    }
    await Promise.all(sides.map((s) => s.proc.stop()));
  });
}
