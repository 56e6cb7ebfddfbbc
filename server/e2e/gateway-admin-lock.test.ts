/**
 * The JSON gateway's Cluster, Maintenance, Lock and Election routes of the release binary with
 * curl and fetch, as etcd 3.4's grpc-gateway answers them: bodies (original field names, int64 as
 * strings, base64 bytes), errors (`{"error","message","code"}` with grpc-gateway's HTTP status),
 * a lock contended over HTTP and handed on by unlock and by lease expiry, and the chunked
 * `/v3/election/observe` stream read line by line. Every expected answer was read off etcd
 * 3.4.23 with the same requests (passes with E2E_ETCD_BIN=/usr/bin/etcd); IDs are masked.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cleanup, type EtcdProcess, IS_REAL_ETCD, run, startEtcd } from "./harness.ts";
import { settlesWithin } from "./clients.ts";

setDefaultTimeout(60_000);

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "gwadmin" });
});
afterAll(cleanup);

const mask = (body: string) => body.replace(/"(cluster_id|member_id)":"\d+"/g, '"$1":"X"').replace(/"(ID|leader)":"\d+"/g, '"$1":"X"');

/** `curl -X POST <endpoint><path> -d <body>`: HTTP status and body with IDs masked. */
async function curl(path: string, body?: string, method = "POST"): Promise<{ status: number; body: string }> {
  const args = ["curl", "-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", `${etcd.endpoint}${path}`];
  if (body !== undefined) args.push("-d", body);
  const r = await run(args);
  const cut = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(cut + 1)), body: mask(r.stdout.slice(0, cut)) };
}

/** POST with fetch; the JSON answer (status and parsed body). */
async function post(path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; json: any }> {
  const res = await fetch(`${etcd.endpoint}${path}`, { method: "POST", body: JSON.stringify(body), signal });
  return { status: res.status, json: await res.json() };
}

const err = (msg: string, code: number) => JSON.stringify({ error: msg, message: msg, code });
const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString();

describe("cluster and maintenance", () => {
  test("member list, and the refusals of add, remove, update, promote", async () => {
    const peer = `http://127.0.0.1:${etcd.peerPort}`;
    const member = `{"ID":"X","name":"gwadmin","peerURLs":["${peer}"],"clientURLs":["${etcd.endpoint}"]}`;
    const listed = `{"header":{"cluster_id":"X","member_id":"X","raft_term":"2"},"members":[${member}]}`;
    expect(await curl("/v3/cluster/member/list", "{}")).toEqual({ status: 200, body: listed });
    expect(await curl("/v3beta/cluster/member/list")).toEqual({ status: 200, body: listed });
    const badUrls = { status: 400, body: err("etcdserver: given member URLs are invalid", 3) };
    expect(await curl("/v3/cluster/member/add", "{}")).toEqual(badUrls);
    expect(await curl("/v3/cluster/member/add", '{"peerURLs":["garbage"]}')).toEqual(badUrls);
    const notFound = { status: 404, body: err("etcdserver: member not found", 5) };
    expect(await curl("/v3/cluster/member/remove", '{"ID":"5"}')).toEqual(notFound);
    expect(await curl("/v3/cluster/member/update", '{"ID":"5","peerURLs":["http://127.0.0.1:1"]}')).toEqual(notFound);
    expect(await curl("/v3/cluster/member/promote", '{"ID":"5"}')).toEqual(notFound);
    expect(await curl("/v3/cluster/member/list", "[]")).toEqual({
      status: 400,
      body: err("json: cannot unmarshal array into Go value of type map[string]json.RawMessage", 3),
    });
    // The refused changes left the membership alone.
    expect(await curl("/v3/cluster/member/list", "{}")).toEqual({ status: 200, body: listed });
  });

  test("alarm, status, defragment, transfer-leadership, hash, snapshot", async () => {
    expect(await curl("/v3/maintenance/alarm", "{}")).toEqual({ status: 200, body: "{}" });
    expect(await curl("/v3/maintenance/alarm", '{"action":"DEACTIVATE","alarm":"NOSPACE"}')).toEqual({ status: 200, body: "{}" });
    const status = await curl("/v3/maintenance/status", "{}");
    expect(status.status).toBe(200);
    const st = JSON.parse(status.body);
    expect(Object.keys(st)).toEqual(["header", "version", "dbSize", "leader", "raftIndex", "raftTerm", "raftAppliedIndex", "dbSizeInUse"]);
    expect([st.version, st.raftTerm, st.leader]).toEqual(["3.4.23", "2", "X"]);
    expect(await curl("/v3/maintenance/defragment", "{}")).toEqual({ status: 200, body: "{}" });
    const badTransferee = { status: 412, body: err("etcdserver: bad leader transferee", 9) };
    expect(await curl("/v3/maintenance/transfer-leadership", "{}")).toEqual(badTransferee);
    expect(await curl("/v3/maintenance/transfer-leadership", '{"targetID":"1"}')).toEqual(badTransferee);
    // Hash and Snapshot: etcd's answers; a server without them answers as its gRPC service does.
    const hash = await curl("/v3/maintenance/hash", "{}");
    const snapshot = await run(["curl", "-s", "-X", "POST", "-w", "\n%{http_code}", `${etcd.endpoint}/v3/maintenance/snapshot`, "-d", "{}"]);
    if (IS_REAL_ETCD) {
      expect(hash.status).toBe(200);
      expect(hash.body).toMatch(/^\{"header":\{[^}]*\},"hash":\d+\}$/);
      expect(snapshot.stdout).toStartWith('{"result":{"blob":"');
    } else {
      expect(hash).toEqual({ status: 501, body: err("unknown method Hash for service etcdserverpb.Maintenance", 12) });
      expect(snapshot.stdout).toBe(`${err("unknown method Snapshot for service etcdserverpb.Maintenance", 12)}\n501`);
    }
  });
});

describe("lock and election", () => {
  test("lock contended over HTTP: handed on by unlock, then by the holder's lease expiring", async () => {
    expect((await curl("/v3/lease/grant", '{"TTL":"60","ID":"161"}')).status).toBe(200);
    expect((await curl("/v3/lease/grant", '{"TTL":"60","ID":"177"}')).status).toBe(200);
    expect((await curl("/v3/lease/grant", '{"TTL":"2","ID":"193"}')).status).toBe(200);
    const first = await post("/v3/lock/lock", { name: b64("door"), lease: "161" });
    expect([first.status, unb64(first.json.key)]).toEqual([200, "door/a1"]);
    const second = post("/v3/lock/lock", { name: b64("door"), lease: "177" });
    expect(await settlesWithin(second, 400)).toBe(false);
    const unlocked = await curl("/v3/lock/unlock", JSON.stringify({ key: first.json.key }));
    expect(unlocked.status).toBe(200);
    const got = await second;
    expect([got.status, unb64(got.json.key)]).toEqual([200, "door/b1"]);
    expect(got.json.header.revision).toBe(JSON.parse(unlocked.body).header.revision);

    const short = await post("/v3beta/lock/lock", { name: b64("exp"), lease: "193" });
    expect(unb64(short.json.key)).toBe("exp/c1");
    const started = Date.now();
    const next = await post("/v3/lock/lock", { name: b64("exp"), lease: "177" });
    expect([next.status, unb64(next.json.key)]).toEqual([200, "exp/b1"]);
    expect(Date.now() - started).toBeGreaterThan(1000);
  });

  test("a waiting HTTP lock withdraws its key when the client goes away", async () => {
    expect((await curl("/v3/lease/grant", '{"TTL":"60","ID":"209"}')).status).toBe(200);
    const ac = new AbortController();
    const waiting = post("/v3/lock/lock", { name: b64("door"), lease: "209" }, ac.signal);
    const range = () => curl("/v3/kv/range", JSON.stringify({ key: b64("door/"), range_end: b64("door0"), keys_only: true }));
    await Bun.sleep(300);
    expect((await range()).body).toContain(b64("door/d1"));
    ac.abort();
    await waiting.catch(() => {});
    let body = "";
    for (let i = 0; i < 40; i++) {
      body = (await range()).body;
      if (!body.includes(b64("door/d1"))) break;
      await Bun.sleep(50);
    }
    expect(body).not.toContain(b64("door/d1"));
    expect(body).toContain(b64("door/b1"));
  });

  test("lock and election errors", async () => {
    const unknown = (m: string) => ({ status: 500, body: err(m, 2) });
    expect(await curl("/v3/lock/lock", '{"name":"bG9jaw==","lease":"5"}')).toEqual(unknown("etcdserver: requested lease not found"));
    expect(await curl("/v3/lock/unlock", "{}")).toEqual(unknown("etcdserver: key is not provided"));
    expect(await curl("/v3/lock/lock", "xx")).toEqual({ status: 400, body: err("invalid character 'x' looking for beginning of value", 3) });
    expect(await curl("/v3/election/leader", '{"name":"bm9uZQ=="}')).toEqual(unknown("election: no leader"));
    expect(await curl("/v3/election/proclaim", '{"value":"djE="}')).toEqual(unknown('"leader" field must be provided'));
    expect(await curl("/v3/election/resign", "{}")).toEqual(unknown('"leader" field must be provided'));
    expect(await curl("/v3/election/proclaim", '{"leader":{},"value":"djE="}')).toEqual(unknown("etcdserver: key is not provided"));
    const stale = '{"leader":{"name":"ZQ==","key":"ZS94","rev":"3","lease":"5"},"value":"djE="}';
    expect(await curl("/v3/election/proclaim", stale)).toEqual(unknown("election: not leader"));
    expect(await curl("/v3/election/observe", "[]")).toEqual({
      status: 400,
      body: err("json: cannot unmarshal array into Go value of type map[string]json.RawMessage", 3),
    });
    expect(await curl("/v3/election/observe", "{}", "GET")).toEqual({ status: 405, body: "Method Not Allowed\n" });
  });

  test("campaign, proclaim, resign; /v3/election/observe streams one line per proclamation", async () => {
    for (const id of ["225", "241"]) expect((await curl("/v3/lease/grant", `{"TTL":"60","ID":"${id}"}`)).status).toBe(200);
    const ac = new AbortController();
    const observing = fetch(`${etcd.endpoint}/v3/election/observe`, { method: "POST", body: JSON.stringify({ name: b64("gw") }), signal: ac.signal });
    // Nothing is sent before the first proclamation (grpc-gateway waits for the gRPC headers).
    expect(await settlesWithin(observing, 300)).toBe(false);
    const c1 = await post("/v3/election/campaign", { name: b64("gw"), lease: "225", value: b64("one") });
    expect(c1.status).toBe(200);
    expect(c1.json.leader).toEqual({ name: b64("gw"), key: b64("gw/e1"), rev: c1.json.header.revision, lease: "225" });
    const res = await observing;
    expect([res.status, res.headers.get("content-type"), res.headers.get("transfer-encoding")]).toEqual([200, "application/json", "chunked"]);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    const nextLine = async (): Promise<any> => {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${buffered}`);
        buffered += decoder.decode(value, { stream: true });
      }
      const i = buffered.indexOf("\n");
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      expect(Object.keys(JSON.parse(line))).toEqual(["result"]);
      return JSON.parse(line).result;
    };
    const l1 = await nextLine();
    expect([unb64(l1.kv.key), unb64(l1.kv.value), l1.kv.create_revision, l1.kv.lease]).toEqual(["gw/e1", "one", c1.json.header.revision, "225"]);
    const second = post("/v3/election/campaign", { name: b64("gw"), lease: "241", value: b64("two") });
    expect(await settlesWithin(second, 300)).toBe(false);
    const p = await post("/v3/election/proclaim", { leader: c1.json.leader, value: b64("one+") });
    expect(p.status).toBe(200);
    const l2 = await nextLine();
    expect([unb64(l2.kv.value), l2.kv.mod_revision, l2.header.revision]).toEqual(["one+", p.json.header.revision, p.json.header.revision]);
    const leader = await curl("/v3/election/leader", JSON.stringify({ name: b64("gw") }));
    expect(leader.status).toBe(200);
    expect(unb64(JSON.parse(leader.body).kv.value)).toBe("one+");
    const resigned = await curl("/v3/election/resign", JSON.stringify({ leader: c1.json.leader }));
    expect(resigned.status).toBe(200);
    const c2 = await second;
    expect(c2.json.leader.key).toBe(b64("gw/f1"));
    const l3 = await nextLine();
    expect([unb64(l3.kv.key), unb64(l3.kv.value)]).toEqual(["gw/f1", "two"]);
    expect(await curl("/v3/election/proclaim", JSON.stringify({ leader: c1.json.leader, value: b64("x") }))).toEqual({
      status: 500,
      body: err("election: not leader", 2),
    });
    ac.abort();
    await curl("/v3/election/resign", JSON.stringify({ leader: c2.json.leader }));
  });
});
