/**
 * Watch end to end through the release binaries: the Go etcdctl and ours following a prefix
 * while another etcdctl writes, `watch --rev` replaying history, the `etcd3` npm client's
 * watcher, a connect-web client over HTTP/1.1 on the browser service, curl on the gateway's
 * `POST /v3/watch`, and a watch resumed after a server restart from the last seen revision + 1.
 * Expected texts were read off etcd 3.4.23 (the same test passes with E2E_ETCD_BIN=/usr/bin/etcd
 * except the Connect service, which real etcd does not have).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Etcd3 } from "etcd3";
import { KV, Watch, WatchRequestSchema, type WatchRequest, type WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Watch as BrowserWatch } from "../../proto/gen/etcdts/watch_pb.ts";
import { bytes, text } from "./clients.ts";
import { Follower } from "./follower.ts";
import { cleanup, ETCDCTLS, type EtcdProcess, goEtcdctl, GO_ETCDCTL, IS_REAL_ETCD, ourEtcdctlBin, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "watch" });
});
afterAll(cleanup);

/** Writes marker keys under `prefix` until `f` prints one: from then on its watch is live. */
async function waitLive(f: Follower, prefix: string): Promise<string> {
  for (let i = 0; ; i++) {
    const marker = `${prefix}marker${i}`;
    await goEtcdctl(etcd.endpoint, ["put", marker, "m"]);
    try {
      await f.waitFor(`${marker}\nm\n`, 500);
      return marker;
    } catch {
      if (i >= 40) throw new Error(`watch never went live: ${JSON.stringify(f.stdout)}`);
    }
  }
}

for (const { name } of ETCDCTLS) describe(`${name} watch`, () => {
  const bin = name === "go etcdctl" ? GO_ETCDCTL : ourEtcdctlBin();
  const ns = name === "go etcdctl" ? "/go" : "/ours";

  test("--prefix receives puts and deletes made by another etcdctl", async () => {
    const prefix = `${ns}/live/`;
    const f = new Follower([bin, `--endpoints=${etcd.endpoint}`, "watch", "--prefix", prefix]);
    try {
      const marker = await waitLive(f, prefix);
      await goEtcdctl(etcd.endpoint, ["put", `${prefix}a`, "1"]);
      await goEtcdctl(etcd.endpoint, ["put", `${prefix}b`, "two words"]);
      await goEtcdctl(etcd.endpoint, ["del", `${prefix}a`]);
      await goEtcdctl(etcd.endpoint, ["put", `${ns}/elsewhere`, "x"]);
      await goEtcdctl(etcd.endpoint, ["del", "--prefix", prefix]);
      const tail = `PUT\n${prefix}a\n1\nPUT\n${prefix}b\ntwo words\nDELETE\n${prefix}a\n\n`;
      await f.waitFor(`${tail}DELETE\n${prefix}b\n\n`);
      const afterMarker = f.stdout.slice(f.stdout.indexOf(`${marker}\nm\n`) + marker.length + 3);
      // The final delete-range removes the markers and b in one revision: all in one response.
      expect(afterMarker.startsWith(tail)).toBe(true);
      expect(afterMarker).not.toContain("elsewhere");
    } finally {
      await f.stop();
    }
  });

  test("--rev replays history (with --prev-kv) and -w json shows the revisions", async () => {
    const prefix = `${ns}/replay/`;
    const first = await goEtcdctl(etcd.endpoint, ["put", `${prefix}k`, "v1", "-w", "json"]);
    const rev = BigInt(JSON.parse(first.stdout).header.revision);
    await goEtcdctl(etcd.endpoint, ["put", `${prefix}k`, "v2"]);
    await goEtcdctl(etcd.endpoint, ["del", `${prefix}k`]);
    const f = new Follower([bin, `--endpoints=${etcd.endpoint}`, "watch", "--prefix", prefix, "--rev", String(rev), "--prev-kv"]);
    const j = new Follower([bin, `--endpoints=${etcd.endpoint}`, "watch", "--prefix", prefix, "--rev", String(rev), "-w", "json"]);
    try {
      await f.waitFor(`PUT\n${prefix}k\nv1\nPUT\n${prefix}k\nv1\n${prefix}k\nv2\nDELETE\n${prefix}k\nv2\n${prefix}k\n\n`);
      await j.waitFor('"Created":false}\n');
      const firstLine = JSON.parse(j.stdout.split("\n")[0]!);
      expect(firstLine.Events.map((e: { type?: number; kv: { mod_revision: number } }) => [e.type ?? 0, BigInt(e.kv.mod_revision)])).toEqual([
        [0, rev],
        [0, rev + 1n],
        [1, rev + 2n],
      ]);
    } finally {
      await f.stop();
      await j.stop();
    }
  });
});

test("the etcd3 npm client's watch().prefix().create() gets put and delete events", async () => {
  const client = new Etcd3({ hosts: etcd.endpoint });
  try {
    const watcher = await client.watch().prefix("/npm/").create();
    const seen: string[] = [];
    const got = new Promise<void>((resolve) => {
      watcher.on("put", (kv) => {
        seen.push(`put ${kv.key.toString()}=${kv.value.toString()}`);
      });
      watcher.on("delete", (kv) => {
        seen.push(`delete ${kv.key.toString()}`);
        resolve();
      });
    });
    await client.put("/npm/a").value("1");
    await client.put("/npm-not/a").value("1");
    await client.delete().key("/npm/a");
    await got;
    expect(seen).toEqual(["put /npm/a=1", "delete /npm/a"]);
    await watcher.cancel();
  } finally {
    client.close();
  }
});

describe.skipIf(IS_REAL_ETCD)("browser watch (etcdts.v1.Watch) over HTTP/1.1", () => {
  for (const [i, label, transport] of [
    [0, "connect-web Connect protocol", () => createConnectTransport({ baseUrl: etcd.endpoint })],
    [1, "connect-web gRPC-Web", () => createGrpcWebTransport({ baseUrl: etcd.endpoint })],
  ] as const) {
    test(`${label} follows a prefix`, async () => {
      const prefix = `/web/${i}/`;
      const kv = createClient(KV, createGrpcTransport({ baseUrl: etcd.endpoint }));
      const start = (await kv.range({ key: bytes("x") })).header!.revision + 1n;
      const client = createClient(BrowserWatch, transport());
      const ac = new AbortController();
      const events: string[] = [];
      let created: WatchResponse | undefined;
      const reading = (async () => {
        for await (const r of client.watch({ key: bytes(prefix), rangeEnd: bytes(prefix.slice(0, -1) + "0"), startRevision: start }, { signal: ac.signal })) {
          if (r.created) created = r;
          for (const ev of r.events) events.push(`${ev.type === 1 ? "DELETE" : "PUT"} ${text(ev.kv!.key)}`);
          if (events.length === 3) ac.abort();
        }
      })().catch((e) => {
        if (!ac.signal.aborted) throw e;
      });
      await kv.put({ key: bytes(`${prefix}a`), value: bytes("1") });
      await kv.put({ key: bytes(`${prefix}b`), value: bytes("2") });
      await kv.deleteRange({ key: bytes(`${prefix}a`) });
      await reading;
      expect(created?.created).toBe(true);
      expect(events).toEqual([`PUT ${prefix}a`, `PUT ${prefix}b`, `DELETE ${prefix}a`]);
    });
  }
});

test("curl on POST /v3/watch streams {\"result\":...} lines", async () => {
  const kv = createClient(KV, createGrpcTransport({ baseUrl: etcd.endpoint }));
  const key = Buffer.from("/curl/k").toString("base64");
  const f = new Follower(["curl", "-sN", "-X", "POST", `${etcd.endpoint}/v3/watch`, "-d", JSON.stringify({ create_request: { key, prev_kv: true } })]);
  try {
    await f.waitFor('"created":true}}\n');
    const put = await kv.put({ key: bytes("/curl/k"), value: bytes("v") });
    await kv.deleteRange({ key: bytes("/curl/k") });
    await f.waitFor('"type":"DELETE"');
    await f.waitFor("}}\n", 2000);
    const lines = f.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const rev = String(put.header!.revision);
    expect(lines[0].result.header.revision).toBe(String(Number(rev) - 1));
    expect(lines[1].result.events).toEqual([{ kv: { key, create_revision: rev, mod_revision: rev, version: "1", value: "dg==" } }]);
    expect(lines[2].result.events[0].type).toBe("DELETE");
    expect(lines[2].result.events[0].kv).toEqual({ key, mod_revision: String(Number(rev) + 1) });
    expect(lines[2].result.events[0].prev_kv.value).toBe("dg==");
  } finally {
    await f.stop();
  }
});

/** A bidi Watch over HTTP/2 that records events; `close()` ends it. */
function grpcWatch(endpoint: string, req: WatchRequest) {
  const client = createClient(Watch, createGrpcTransport({ baseUrl: endpoint }));
  const ac = new AbortController();
  const events: { key: string; rev: bigint }[] = [];
  async function* requests() {
    yield req;
    await new Promise((resolve) => ac.signal.addEventListener("abort", resolve));
  }
  const done = (async () => {
    for await (const r of client.watch(requests(), { signal: ac.signal })) {
      for (const ev of r.events) events.push({ key: text(ev.kv!.key), rev: ev.kv!.modRevision });
    }
  })().catch(() => {});
  return {
    events,
    async waitCount(n: number) {
      const deadline = Date.now() + 10_000;
      while (events.length < n && Date.now() < deadline) await Bun.sleep(20);
      expect(events.length).toBe(n);
    },
    async close() {
      ac.abort();
      await done;
    },
  };
}

test("restart: a watch resumed at last seen revision + 1 misses nothing", async () => {
  const kv = () => createClient(KV, createGrpcTransport({ baseUrl: etcd.endpoint }));
  const createReq = (startRevision: bigint) =>
    create(WatchRequestSchema, { requestUnion: { case: "createRequest", value: { key: bytes("/rs/"), rangeEnd: bytes("/rs0"), startRevision } } });
  const start = (await kv().range({ key: bytes("x") })).header!.revision + 1n;
  const w = grpcWatch(etcd.endpoint, createReq(start));
  for (const k of ["a", "b"]) await kv().put({ key: bytes(`/rs/${k}`), value: bytes("1") });
  await w.waitCount(2);
  const lastSeen = w.events[1]!.rev;
  await w.close();
  await kv().put({ key: bytes("/rs/c"), value: bytes("1") }); // written while nobody watches
  await etcd.stop();
  etcd = await startEtcd({ name: "watch", dataDir: etcd.dataDir, clientPort: etcd.clientPort, peerPort: etcd.peerPort });
  await kv().deleteRange({ key: bytes("/rs/a") });
  const resumed = grpcWatch(etcd.endpoint, createReq(lastSeen + 1n));
  await kv().put({ key: bytes("/rs/d"), value: bytes("1") });
  await resumed.waitCount(3);
  expect(resumed.events).toEqual([
    { key: "/rs/c", rev: lastSeen + 1n },
    { key: "/rs/a", rev: lastSeen + 2n },
    { key: "/rs/d", rev: lastSeen + 3n },
  ]);
  await resumed.close();
});

test("gRPC: responses keep coming after the client half-closes, and one stream carries several watchers", async () => {
  const kv = createClient(KV, createGrpcTransport({ baseUrl: etcd.endpoint }));
  const client = createClient(Watch, createGrpcTransport({ baseUrl: etcd.endpoint }));
  const createFor = (key: string) => create(WatchRequestSchema, { requestUnion: { case: "createRequest", value: { key: bytes(key) } } });
  async function* requests() {
    yield createFor("/hc/a");
    yield createFor("/hc/b");
  }
  const ac = new AbortController();
  const seen: string[] = [];
  let created = 0;
  const reading = (async () => {
    for await (const r of client.watch(requests(), { signal: ac.signal })) {
      if (r.created) created++;
      for (const ev of r.events) seen.push(`${r.watchId}:${text(ev.kv!.key)}`);
      if (seen.length === 2) ac.abort();
    }
  })().catch((e) => {
    if (!ac.signal.aborted) throw e;
  });
  const deadline = Date.now() + 10_000;
  while (created < 2 && Date.now() < deadline) await Bun.sleep(10);
  await kv.put({ key: bytes("/hc/b"), value: bytes("1") });
  await kv.put({ key: bytes("/hc/a"), value: bytes("1") });
  await reading;
  expect(seen).toEqual(["1:/hc/b", "0:/hc/a"]);
});
