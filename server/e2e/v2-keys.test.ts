/**
 * The v2 keys API (`--enable-v2`) of the server under test against the real etcd 3.4 in the same
 * run: every request goes to both, and status, the headers etcd's v2 handler sets and the body
 * must be equal byte for byte after normalizing what legitimately differs: the Raft index and
 * term, the cluster ID, member IDs and ports, and expiry times. Store indexes are compared relative
 * to the index before the test's first write, which must itself be equal (both count etcd's
 * membership records).
 * Covers every action, each error code, directories, hidden and in-order keys, TTL expiry,
 * long-poll and streaming watches with waitIndex, the 1000-event history (401), and the 404 etcd
 * answers without `--enable-v2`.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cleanup, GO_ETCDCTL, run, startEtcd, type EtcdProcess } from "./harness.ts";

setDefaultTimeout(120_000);
afterAll(cleanup);

const REAL_ETCD = process.env.E2E_REFERENCE_ETCD_BIN ?? "/usr/bin/etcd";

/** A server and the v2 index before the test's first write (to normalize indexes). */
interface Side {
  proc: EtcdProcess;
  base: number;
}

/** One answer as compared. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const COMPARED_HEADERS = ["location", "content-type", "x-etcd-cluster-id", "x-etcd-index", "x-raft-index", "x-raft-term", "allow", "x-content-type-options"];

/** `{i:N}` in a request stands for the server's index base + N. */
function expand(text: string, base: number): string {
  return text.replace(/\{i:(\d+)\}/g, (_, n) => String(base + Number(n)));
}

/** Replaces the index-like numbers of a v2 body by their offset from `base`. */
function normalizeBody(body: string, base: number): string {
  return body
    .replace(/"expiration":"[^"]*"/g, '"expiration":"<time>"')
    .replace(/"(modifiedIndex|createdIndex)":(\d+)/g, (_, k, n) => `"${k}":${Number(n) - base}`)
    .replace(/"index":(\d+)/g, (_, n) => `"index":${Number(n) === 0 ? 0 : Number(n) - base}`)
    .replace(/\/(0\d{19})/g, (_, n) => `/<in-order ${Number(n) - base}>`)
    .replace(/cleared \[(\d+)\/(\d+)\]/g, (_, a, b) => `cleared [${Number(a) - base}/${Number(b) - base}]`)
    .replace(/\[(\d+) != (\d+)\]/g, (_, a, b) => `[${Number(a) - base} != ${Number(b) - base}]`)
    .replace(/"id":"[0-9a-f]+"/g, '"id":"<id>"')
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>");
}

async function call(side: Side, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = expand(body, side.base);
    (init.headers as Record<string, string>)["content-type"] ??= "application/x-www-form-urlencoded";
  }
  const res = await fetch(side.proc.endpoint + expand(path, side.base), { ...init, redirect: "manual" });
  return normalize(res, await res.text(), side.base);
}

function normalize(res: Response, text: string, base: number): Answer {
  const h: Record<string, string> = {};
  for (const name of COMPARED_HEADERS) {
    const v = res.headers.get(name);
    if (v === null) continue;
    if (name === "x-etcd-index") h[name] = v === "0" ? v : String(Number(v) - base);
    else if (name === "x-raft-index" || name === "x-raft-term" || name === "x-etcd-cluster-id") h[name] = "<set>";
    else h[name] = v;
  }
  return { status: res.status, headers: h, body: normalizeBody(text, base) };
}

/** Sends the same request to both servers and expects equal answers; returns ours. */
async function same(sides: [Side, Side], method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Answer> {
  const [ours, ref] = await Promise.all(sides.map((s) => call(s, method, path, body, headers)));
  expect({ req: `${method} ${path} ${body ?? ""}`, ...ours }).toEqual({ req: `${method} ${path} ${body ?? ""}`, ...ref! });
  return ours!;
}

async function start(bin?: string, enable = true): Promise<EtcdProcess> {
  return startEtcd({ bin, extraArgs: enable ? ["--enable-v2"] : [] });
}

/** The v2 index before the first write: the test's first PUT's index minus one. */
async function firstWrite(proc: EtcdProcess): Promise<Side> {
  const res = await fetch(`${proc.endpoint}/v2/keys/base`, {
    method: "PUT",
    body: "value=0",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  const ev = (await res.json()) as { node: { modifiedIndex: number } };
  return { proc, base: ev.node.modifiedIndex - 1 };
}

describe("v2 keys API, ours and etcd 3.4 side by side", () => {
  let sides: [Side, Side];

  test("start both servers with --enable-v2", async () => {
    const [ours, ref] = await Promise.all([start(), start(REAL_ETCD)]);
    sides = [await firstWrite(ours!), await firstWrite(ref!)];
    // The store index counts etcd's own membership records too, so the first write's index is the same.
    expect(sides[0].base).toBe(sides[1].base);
  });

  test("set, get, create, update, compare-and-swap, delete", async () => {
    await same(sides, "GET", "/v2/keys/base");
    await same(sides, "PUT", "/v2/keys/foo", "value=bar");
    await same(sides, "PUT", "/v2/keys/foo", "value=baz");
    await same(sides, "GET", "/v2/keys/foo");
    await same(sides, "HEAD", "/v2/keys/foo");
    await same(sides, "GET", "/v2/keys/foo?quorum=true");
    await same(sides, "PUT", "/v2/keys/foo?prevExist=false", "value=x");
    await same(sides, "PUT", "/v2/keys/new", "value=x&prevExist=false");
    await same(sides, "PUT", "/v2/keys/foo", "value=upd&prevExist=true");
    await same(sides, "PUT", "/v2/keys/missing", "value=upd&prevExist=true");
    await same(sides, "PUT", "/v2/keys/foo", "value=cas1&prevValue=upd");
    await same(sides, "PUT", "/v2/keys/foo", "value=cas2&prevValue=nope");
    await same(sides, "PUT", "/v2/keys/foo", "value=cas2&prevIndex={i:1}");
    await same(sides, "PUT", "/v2/keys/foo", "value=cas2&prevIndex={i:1}&prevValue=nope");
    await same(sides, "PUT", "/v2/keys/foo", "value=cas3&prevIndex={i:6}");
    await same(sides, "PUT", "/v2/keys/foo", "value=cas4&prevIndex={i:7}&prevExist=true");
    await same(sides, "PUT", "/v2/keys/foo?noValueOnSuccess=true", "value=quiet");
    await same(sides, "DELETE", "/v2/keys/foo?prevValue=nope");
    await same(sides, "DELETE", "/v2/keys/foo?prevIndex={i:2}");
    await same(sides, "DELETE", "/v2/keys/foo?prevValue=quiet");
    await same(sides, "DELETE", "/v2/keys/foo");
    await same(sides, "DELETE", "/v2/keys/new");
    await same(sides, "PUT", "/v2/keys/empty", "value=");
    await same(sides, "GET", "/v2/keys/empty");
    await same(sides, "PUT", "/v2/keys/html", "value=%3Ca%3E%26%22%5C%E2%82%AC");
    await same(sides, "GET", "/v2/keys/html");
  });

  test("directories, hidden keys, in-order keys, sorted and recursive listings", async () => {
    await same(sides, "PUT", "/v2/keys/dir", "dir=true");
    await same(sides, "PUT", "/v2/keys/dir", "dir=true");
    await same(sides, "PUT", "/v2/keys/dir", "value=x");
    await same(sides, "PUT", "/v2/keys/dir?prevExist=false", "dir=true");
    await same(sides, "PUT", "/v2/keys/dir/b", "value=2");
    await same(sides, "PUT", "/v2/keys/dir/a", "value=1");
    await same(sides, "PUT", "/v2/keys/dir/_hidden", "value=h");
    await same(sides, "PUT", "/v2/keys/dir/sub/c", "value=3");
    await same(sides, "GET", "/v2/keys/dir?sorted=true");
    await same(sides, "GET", "/v2/keys/dir?recursive=true&sorted=true");
    await same(sides, "GET", "/v2/keys/dir/_hidden");
    await same(sides, "GET", "/v2/keys/dir/a/x");
    await same(sides, "PUT", "/v2/keys/dir/a/x", "value=1");
    await same(sides, "POST", "/v2/keys/queue", "value=first");
    await same(sides, "POST", "/v2/keys/queue", "value=second");
    await same(sides, "POST", "/v2/keys/queue?dir=true");
    await same(sides, "GET", "/v2/keys/queue?recursive=true&sorted=true");
    await same(sides, "POST", "/v2/keys/dir/a", "value=x");
    await same(sides, "DELETE", "/v2/keys/dir/sub");
    await same(sides, "DELETE", "/v2/keys/dir/sub?dir=true");
    await same(sides, "DELETE", "/v2/keys/dir/sub/c");
    await same(sides, "DELETE", "/v2/keys/dir/sub?dir=true");
    await same(sides, "PUT", "/v2/keys/dir", "prevExist=true&dir=true");
    await same(sides, "PUT", "/v2/keys/dir", "prevExist=true&value=v");
    await same(sides, "PUT", "/v2/keys/dir", "prevValue=x&value=v");
    await same(sides, "DELETE", "/v2/keys/dir?prevValue=x");
    await same(sides, "DELETE", "/v2/keys/dir?recursive=true");
    await same(sides, "GET", "/v2/keys/dir");
    await same(sides, "GET", "/v2/keys/?sorted=true");
    // Go's ServeMux redirects a path that is not clean.
    await same(sides, "GET", "/v2/keys/dir//a?sorted=true&x=%3C");
    await same(sides, "PUT", "/v2/keys/dir/./a", "value=1");
  });

  test("the root is read only", async () => {
    await same(sides, "DELETE", "/v2/keys/");
    await same(sides, "DELETE", "/v2/keys/?recursive=true");
    await same(sides, "PUT", "/v2/keys/", "value=x");
    await same(sides, "PUT", "/v2/keys/", "value=x&prevValue=y");
    await same(sides, "PUT", "/v2/keys/?prevExist=true", "value=x");
    await same(sides, "DELETE", "/v2/keys/?prevValue=x");
  });

  test("request errors: each code etcd's parseKeyRequest raises", async () => {
    await same(sides, "PUT", "/v2/keys/e", "value=1&ttl=abc");
    await same(sides, "PUT", "/v2/keys/e", "value=1&ttl=-1");
    await same(sides, "PUT", "/v2/keys/e", "value=1&prevIndex=x");
    await same(sides, "GET", "/v2/keys/e?waitIndex=-2&wait=true");
    await same(sides, "GET", "/v2/keys/e?recursive=maybe");
    await same(sides, "GET", "/v2/keys/e?sorted=2");
    await same(sides, "GET", "/v2/keys/e?quorum=yes");
    await same(sides, "PUT", "/v2/keys/e", "value=1&dir=no");
    await same(sides, "PUT", "/v2/keys/e", "value=1&prevExist=perhaps");
    await same(sides, "PUT", "/v2/keys/e?wait=true", "value=1");
    await same(sides, "PUT", "/v2/keys/e", "value=1&prevValue=");
    await same(sides, "PUT", "/v2/keys/e", "value=1&refresh=true&ttl=5");
    await same(sides, "PUT", "/v2/keys/e", "refresh=true");
    await same(sides, "PUT", "/v2/keys/e", "refresh=x&ttl=5");
    await same(sides, "PUT", "/v2/keys/e", "refresh=true&ttl=5");
    await same(sides, "GET", "/v2/keys/e?a=%zz");
    await same(sides, "PUT", "/v2/keys/e", "value=%zz");
    // No --max-request-bytes for v2 (a 2 MB value is taken), but Go's 10 MiB form limit.
    await same(sides, "PUT", "/v2/keys/big", `value=${"a".repeat(2_000_000)}`);
    await same(sides, "PUT", "/v2/keys/big", `value=${"a".repeat(11 << 20)}`);
    await same(sides, "DELETE", "/v2/keys/big");
    await same(sides, "GET", "/v2/keys/e?a=1;b=2");
    await same(sides, "PUT", "/v2/keys/e", "value=1;x=2");
    await same(sides, "PATCH", "/v2/keys/e", "value=1");
    await same(sides, "GET", "/v2/keys/e?noValueOnSuccess=nah");
  });

  test("TTLs: set, refresh, update to permanent, expiry by the leader", async () => {
    await same(sides, "PUT", "/v2/keys/ttl", "value=1&ttl=100");
    await same(sides, "GET", "/v2/keys/ttl");
    await same(sides, "PUT", "/v2/keys/ttl", "refresh=true&ttl=200");
    await same(sides, "PUT", "/v2/keys/ttl", "value=2&prevExist=true");
    await same(sides, "GET", "/v2/keys/ttl");
    await same(sides, "PUT", "/v2/keys/tdir", "dir=true&ttl=100");
    await same(sides, "PUT", "/v2/keys/tdir", "dir=true&ttl=300&prevExist=true");
    await same(sides, "PUT", "/v2/keys/tdir/child", "value=c");
    const short = await same(sides, "PUT", "/v2/keys/short", "value=s&ttl=1");
    await same(sides, "PUT", "/v2/keys/tdir", "dir=true&ttl=1&prevExist=true");
    const before = await same(sides, "GET", "/v2/keys/short");
    expect(before.status).toBe(200);
    // Expired once the leader's next SYNC (every 500 ms) passes the expiry time.
    await Bun.sleep(2_500);
    await same(sides, "GET", "/v2/keys/short");
    await same(sides, "GET", "/v2/keys/tdir/child");
    await same(sides, "GET", "/v2/keys/tdir");
    // The history holds the expire events: watching from the set's index finds them.
    await same(sides, "GET", `/v2/keys/short?wait=true&waitIndex={i:${Number(short.headers["x-etcd-index"]) + 1}}`);
    await same(sides, "GET", `/v2/keys/tdir/child?wait=true&waitIndex={i:${Number(short.headers["x-etcd-index"]) + 1}}`);
  });

  test("long-poll watches: waitIndex from history, a future change, recursive, stream", async () => {
    await same(sides, "PUT", "/v2/keys/w/a", "value=1");
    const idx = await Promise.all(sides.map(async (s) => Number((await fetch(`${s.proc.endpoint}/v2/keys/w/a`)).headers.get("x-etcd-index"))));
    await same(sides, "GET", `/v2/keys/w/a?wait=true&waitIndex={i:${idx[0]! - sides[0].base}}`);
    await same(sides, "GET", "/v2/keys/w?wait=true&recursive=true&waitIndex={i:1}");

    // A watch waiting for the next change: headers first, the event once the write applies.
    const watches = sides.map((s) => fetch(`${s.proc.endpoint}/v2/keys/w/a?wait=true`));
    const recursive = sides.map((s) => fetch(`${s.proc.endpoint}/v2/keys/w?wait=true&recursive=true`));
    const plain = sides.map((s) => fetch(`${s.proc.endpoint}/v2/keys/w?wait=true`));
    await Bun.sleep(300);
    await same(sides, "PUT", "/v2/keys/w/a", "value=2");
    await same(sides, "DELETE", "/v2/keys/w?recursive=true");
    for (const group of [watches, recursive, plain]) {
      const answers = await Promise.all(group.map(async (p, i) => normalize(await p, await (await p).text(), sides[i]!.base)));
      expect(answers[0]).toEqual(answers[1]!);
    }

    // A stream watch delivers every change until the client goes away.
    const controllers = sides.map(() => new AbortController());
    const streams = sides.map((s, i) => fetch(`${s.proc.endpoint}/v2/keys/st?wait=true&stream=true&recursive=true`, { signal: controllers[i]!.signal }));
    await Bun.sleep(300);
    await same(sides, "PUT", "/v2/keys/st/1", "value=a");
    await same(sides, "PUT", "/v2/keys/st/_h", "value=hidden");
    await same(sides, "PUT", "/v2/keys/st/2", "value=b");
    const lines = await Promise.all(
      streams.map(async (p, i) => {
        const res = await p;
        const reader = res.body!.getReader();
        let text = "";
        while (text.split("\n").length < 3) text += new TextDecoder().decode((await reader.read()).value);
        controllers[i]!.abort();
        return normalizeBody(text, sides[i]!.base);
      }),
    );
    expect(lines[0]).toEqual(lines[1]!);
    expect(lines[0]!.split("\n").filter(Boolean)).toHaveLength(2);
    // Watchers whose client went away are gone.
    await Bun.sleep(300);
    for (const side of sides) {
      const st = (await (await fetch(`${side.proc.endpoint}/v2/stats/store`)).json()) as { watchers: number };
      expect(st.watchers).toBe(0);
    }
  });

  test("a watch older than the 1000-event history fails with 401", async () => {
    for (const s of sides) {
      for (let i = 0; i < 1010; i++) {
        await fetch(`${s.proc.endpoint}/v2/keys/hist`, { method: "PUT", body: `value=${i}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
      }
    }
    await same(sides, "GET", "/v2/keys/hist?wait=true&waitIndex={i:1}");
    await same(sides, "GET", "/v2/keys/hist?wait=true&waitIndex={i:900}");
  });

  test("/v2/members, /v2/machines and /v2/stats answer with etcd's shapes", async () => {
    for (const s of sides) {
      const members = (await (await fetch(`${s.proc.endpoint}/v2/members`)).json()) as { members: { id: string; name: string; peerURLs: string[]; clientURLs: string[] }[] };
      expect(members.members).toHaveLength(1);
      expect(members.members[0]!.clientURLs).toEqual([s.proc.endpoint]);
      expect(await (await fetch(`${s.proc.endpoint}/v2/machines`)).text()).toBe(s.proc.endpoint);
      const self = (await (await fetch(`${s.proc.endpoint}/v2/stats/self`)).json()) as Record<string, unknown>;
      expect(Object.keys(self)).toEqual(["name", "id", "state", "startTime", "leaderInfo", "recvAppendRequestCnt", "sendAppendRequestCnt"]);
      expect(self.state).toBe("StateLeader");
      const leader = await (await fetch(`${s.proc.endpoint}/v2/stats/leader`)).text();
      expect(leader).toBe(`{"leader":"${members.members[0]!.id}","followers":{}}`);
      const store = (await (await fetch(`${s.proc.endpoint}/v2/stats/store`)).json()) as Record<string, unknown>;
      expect(Object.keys(store)).toEqual([
        "getsSuccess", "getsFail", "setsSuccess", "setsFail", "deleteSuccess", "deleteFail", "updateSuccess", "updateFail",
        "createSuccess", "createFail", "compareAndSwapSuccess", "compareAndSwapFail", "compareAndDeleteSuccess", "compareAndDeleteFail",
        "expireCount", "watchers",
      ]);
    }
    await same(sides, "GET", "/v2/members/leader");
    await same(sides, "GET", "/v2/members/nope");
    await same(sides, "DELETE", "/v2/members");
    await same(sides, "DELETE", "/v2/members/zz");
    await same(sides, "DELETE", "/v2/members/1234");
    await same(sides, "PUT", "/v2/members/1234", '{"peerURLs":["http://127.0.0.1:1"]}', { "content-type": "application/json" });
    await same(sides, "POST", "/v2/members", "peerURLs=x");
    await same(sides, "POST", "/v2/members", "{bad", { "content-type": "application/json" });
    await same(sides, "POST", "/v2/members", '{"peerURLs":["ftp://x:1"]}', { "content-type": "application/json" });
    await same(sides, "POST", "/v2/members", '{"peerURLs":[]}', { "content-type": "application/json" });
    await same(sides, "PATCH", "/v2/members");
    await same(sides, "POST", "/v2/stats/self");
    await same(sides, "GET", "/v2/stats/nope");
  });

  test("etcd_debugging_store_* and etcd_http_* metrics count the same writes, expiries, watches and requests", async () => {
    const [ours, ref] = await Promise.all(sides.map((s) => storeMetrics(s.proc.endpoint)));
    expect(ours!['etcd_debugging_store_writes_total{action="set"}']).toBeGreaterThan(1000);
    expect(ours!['etcd_http_received_total{method="PUT"}']).toBeGreaterThan(1000);
    expect(ours!['etcd_http_failed_total{code="412",method="PUT"}']).toBeGreaterThan(0);
    expect(ours).toEqual(ref!);
  });
});

/**
 * The `etcd_debugging_store_*` samples of a scrape other than reads (etcd also reads its own
 * records) and the `etcd_http_*` counts, with labels in a fixed order.
 */
async function storeMetrics(endpoint: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^((?:etcd_debugging_store_(?:writes_total|expires_total|watch_requests_total|watchers)|etcd_http_(?:received_total|failed_total|successful_duration_seconds_count))(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out[m[1]!.replace(/\{([^}]*)\}/, (_, l: string) => `{${l.split(",").sort().join(",")}}`)] = Number(m[2]);
  }
  return out;
}

describe("the Go etcdctl in v2 mode (ETCDCTL_API=2), against ours and etcd 3.4", () => {
  test("every command prints the same output, errors and exit codes", async () => {
    const [ours, ref] = await Promise.all([start(), start(REAL_ETCD)]);
    const commands = [
      ["set", "/testdir/testkey", "Hello world"],
      ["get", "/testdir/testkey"],
      ["get", "/testkey2"],
      ["update", "/testdir/testkey", "Hi"],
      ["update", "/nokey", "x"],
      ["mk", "/testdir/testkey", "again"],
      ["mk", "--in-order", "/queue", "job1"],
      ["mk", "/made", "m"],
      ["mkdir", "/dir1"],
      ["mkdir", "/dir1"],
      ["setdir", "/dir1"],
      ["updatedir", "/dir1", "--ttl", "100"],
      ["set", "/testdir/other", "o", "--swap-with-value", "nope"],
      ["set", "/testdir/testkey", "swapped", "--swap-with-value", "Hi"],
      ["set", "/testdir/testkey", "swapped2", "--swap-with-index", "1"],
      // Without --sort etcd lists in Go's random map order: one child only.
      ["ls", "/testdir"],
      ["ls", "--sort", "--recursive", "-p", "/"],
      ["-o", "extended", "get", "/testdir/testkey"],
      ["-o", "json", "get", "/testdir/testkey"],
      ["get", "--quorum", "/made"],
      ["rm", "/testdir"],
      ["rm", "/testdir/testkey", "--with-value", "nope"],
      ["rm", "/testdir/testkey"],
      ["rmdir", "/testdir"],
      ["rm", "--recursive", "/queue"],
      ["rmdir", "/dir1"],
      ["rm", "/nope"],
      ["watch", "--after-index", "1", "/made"],
    ];
    for (const args of commands) {
      const [a, b] = await Promise.all(
        [ours!, ref!].map((p) =>
          run([GO_ETCDCTL, "--endpoints", p.endpoint, ...args], { env: { ETCDCTL_API: "2" } }).then((r) => ({
            args: args.join(" "),
            stdout: r.stdout.replaceAll(p.endpoint, "<endpoint>"),
            stderr: r.stderr.replaceAll(p.endpoint, "<endpoint>"),
            code: r.code,
          })),
        ),
      );
      expect(a).toEqual(b!);
    }
    const [ml, mr] = await Promise.all([ours!, ref!].map((p) => run([GO_ETCDCTL, "--endpoints", p.endpoint, "cluster-health"], { env: { ETCDCTL_API: "2" } })));
    expect(ml!.code).toBe(0);
    expect(ml!.stdout).toMatch(/^member [0-9a-f]+ is healthy: got healthy result from http:\/\/127\.0\.0\.1:\d+\ncluster is healthy\n$/);
    expect(mr!.code).toBe(0);
  });
});

describe("without --enable-v2", () => {
  test("/v2 paths answer Go's 404 page not found, as etcd 3.4", async () => {
    const [ours, ref] = await Promise.all([start(undefined, false), start(REAL_ETCD, false)]);
    const sides: [Side, Side] = [
      { proc: ours!, base: 0 },
      { proc: ref!, base: 0 },
    ];
    for (const path of ["/v2/keys/foo", "/v2/keys", "/v2/members", "/v2/machines", "/v2/stats/self", "/v2/stats/store"]) {
      const a = await same(sides, "GET", path);
      expect(a.status).toBe(404);
      expect(a.body).toBe("404 page not found\n");
    }
    await same(sides, "PUT", "/v2/keys/foo", "value=1");
  });
});
