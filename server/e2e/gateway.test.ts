/**
 * curl against the JSON gateway of the release binary: KV (`/v3/kv/range|put|deleterange|txn|
 * compaction`) and Lease (`/v3/lease/grant|revoke|timetolive|leases|keepalive`) with base64 keys
 * and values, int64 fields as strings, original proto field names, and grpc-gateway's error body
 * and HTTP statuses. Every expected body was read off etcd 3.4.23 with the same curl commands
 * (passes with E2E_ETCD_BIN=/usr/bin/etcd); cluster and member IDs are masked.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { cleanup, type EtcdProcess, run, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "gateway" });
});
afterAll(cleanup);

/** `curl -X POST <endpoint>/<path> -d <body>`: HTTP status and body with IDs masked. */
async function curl(path: string, body?: string, method = "POST"): Promise<{ status: number; body: string }> {
  const args = ["curl", "-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", `${etcd.endpoint}${path}`];
  if (body !== undefined) args.push("-d", body);
  const r = await run(args);
  const cut = r.stdout.lastIndexOf("\n");
  const masked = r.stdout.slice(0, cut).replace(/"(cluster_id|member_id)":"\d+"/g, '"$1":"X"');
  return { status: Number(r.stdout.slice(cut + 1)), body: masked };
}

const hdr = (rev: number) => `"header":{"cluster_id":"X","member_id":"X","revision":"${rev}","raft_term":"2"}`;
const err = (msg: string, code: number) => JSON.stringify({ error: msg, message: msg, code });

test("KV: put, range, txn, deleterange, compaction", async () => {
  expect(await curl("/v3/kv/put", '{"key":"Zm9v","value":"YmFy"}')).toEqual({ status: 200, body: `{${hdr(2)}}` });
  expect(await curl("/v3/kv/range", '{"key":"Zm9v"}')).toEqual({
    status: 200,
    body: `{${hdr(2)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`,
  });
  expect(await curl("/v3beta/kv/range", '{"key":"Zm9v","count_only":true}')).toEqual({ status: 200, body: `{${hdr(2)},"count":"1"}` });
  const txn = '{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmFy"}],"success":[{"request_put":{"key":"YQ==","value":"Yg=="}}]}';
  expect(await curl("/v3/kv/txn", txn)).toEqual({
    status: 200,
    body: `{${hdr(3)},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]}`,
  });
  expect(await curl("/v3/kv/deleterange", '{"key":"YQ==","prev_kv":true}')).toEqual({
    status: 200,
    body: `{${hdr(4)},"deleted":"1","prev_kvs":[{"key":"YQ==","create_revision":"3","mod_revision":"3","version":"1","value":"Yg=="}]}`,
  });
  expect(await curl("/v3/kv/compaction", '{"revision":"3"}')).toEqual({ status: 200, body: `{${hdr(4)}}` });
  expect(await curl("/v3/kv/compaction", '{"revision":3}')).toEqual({
    status: 400,
    body: err("etcdserver: mvcc: required revision has been compacted", 11),
  });
});

test("Lease: grant, attach, timetolive, keepalive, leases, revoke", async () => {
  expect(await curl("/v3/lease/grant", '{"TTL":"60","ID":"4660"}')).toEqual({ status: 200, body: `{${hdr(4)},"ID":"4660","TTL":"60"}` });
  expect(await curl("/v3/lease/grant", '{"TTL":60,"ID":4660}')).toEqual({ status: 412, body: err("etcdserver: lease already exists", 9) });
  expect(await curl("/v3/kv/put", '{"key":"bGs=","value":"dg==","lease":"4660"}')).toEqual({ status: 200, body: `{${hdr(5)}}` });
  expect(await curl("/v3/kv/put", '{"key":"bGs=","value":"dg==","lease":"77"}')).toEqual({
    status: 404,
    body: err("etcdserver: requested lease not found", 5),
  });
  // Four curl runs after the grant: on a loaded machine more than a second may have gone.
  const ttl = await curl("/v3/lease/timetolive", '{"ID":4660,"keys":true}');
  expect(ttl.status).toBe(200);
  expect(ttl.body).toMatch(new RegExp(`^\\{${hdr(5).replace(/[{}]/g, "\\$&")},"ID":"4660","TTL":"(5\\d|60)","grantedTTL":"60","keys":\\["bGs="\\]\\}$`));
  expect(await curl("/v3/lease/timetolive", '{"ID":77}')).toEqual({ status: 200, body: `{${hdr(5)},"ID":"77","TTL":"-1"}` });
  expect(await curl("/v3/lease/keepalive", '{"ID":4660}\n{"ID":77}')).toEqual({
    status: 200,
    body: `{"result":{${hdr(5)},"ID":"4660","TTL":"60"}}\n{"result":{${hdr(5)},"ID":"77"}}\n`,
  });
  expect(await curl("/v3/kv/lease/leases", "{}")).toEqual({ status: 200, body: `{${hdr(5)},"leases":[{"ID":"4660"}]}` });
  expect(await curl("/v3/lease/revoke", '{"ID":"4660"}')).toEqual({ status: 200, body: `{${hdr(6)}}` });
  expect(await curl("/v3/kv/range", '{"key":"bGs="}')).toEqual({ status: 200, body: `{${hdr(6)}}` });
  expect(await curl("/v3/lease/revoke", '{"ID":"4660"}')).toEqual({ status: 404, body: err("etcdserver: requested lease not found", 5) });
  expect(await curl("/v3/lease/grant", '{"TTL":"9000000001","ID":"1"}')).toEqual({ status: 400, body: err("etcdserver: too large lease TTL", 11) });
});

test("errors: validation, bad JSON, wrong method, unknown path", async () => {
  expect(await curl("/v3/kv/put", "{}")).toEqual({ status: 400, body: err("etcdserver: key is not provided", 3) });
  expect(await curl("/v3/kv/range", "")).toEqual({ status: 400, body: err("etcdserver: key is not provided", 3) });
  expect(await curl("/v3/kv/range", '"a"')).toEqual({
    status: 400,
    body: err("json: cannot unmarshal string into Go value of type map[string]json.RawMessage", 3),
  });
  expect(await curl("/v3/kv/range", '{"key":"YQ==","sort_order":"BAD"}')).toEqual({
    status: 400,
    body: err('unknown value "BAD" for enum etcdserverpb.RangeRequest_SortOrder', 3),
  });
  expect(await curl("/v3/kv/range", "{bad")).toEqual({
    status: 400,
    body: err("invalid character 'b' looking for beginning of object key string", 3),
  });
  expect(await curl("/v3/kv/range", '{"key":"YQ=="')).toEqual({ status: 400, body: err("unexpected EOF", 3) });
  expect(await curl("/v3/kv/range", undefined, "GET")).toEqual({ status: 405, body: "Method Not Allowed\n" });
  expect(await curl("/v3/kv/nothing", "{}")).toEqual({ status: 404, body: "Not Found\n" });
});
