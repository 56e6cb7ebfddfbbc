/**
 * KV request validation compared case by case with the real etcd 3.4: every request below is
 * sent to /usr/bin/etcd and to our listener (over a fake member); both must answer the same
 * gRPC code and message, or both succeed.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  KV,
  RequestOpSchema,
  type PutRequestSchema,
  type RequestOp,
  type TxnRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";

type PutInit = MessageInitShape<typeof PutRequestSchema>;
type TxnInit = MessageInitShape<typeof TxnRequestSchema>;
import { parseConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { createFakeApi } from "../http/fake-api.ts";
import { startClientListeners, type ClientListeners } from "../http/listener.ts";
import { startRealEtcd, type RealEtcd } from "../http/test-util.ts";

const b = (s: string | number[]) => (typeof s === "string" ? new TextEncoder().encode(s) : new Uint8Array(s));
const put = (key: string | number[], extra: { ignoreValue?: boolean; ignoreLease?: boolean; lease?: bigint } = {}): RequestOp =>
  create(RequestOpSchema, { request: { case: "requestPut", value: { key: b(key), value: b("v"), ...extra } } });
const del = (key: string | number[], rangeEnd: string | number[] = ""): RequestOp =>
  create(RequestOpSchema, { request: { case: "requestDeleteRange", value: { key: b(key), rangeEnd: b(rangeEnd) } } });
const get = (key: string): RequestOp => create(RequestOpSchema, { request: { case: "requestRange", value: { key: b(key) } } });
const txn = (success: RequestOp[], failure: RequestOp[] = []): RequestOp =>
  create(RequestOpSchema, { request: { case: "requestTxn", value: { success, failure } } });
const puts = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => put(`${prefix}${i}`));

const txnCases: [string, TxnInit][] = [
  ["same key put twice", { success: [put("a"), put("a")] }],
  ["put then delete of the key", { success: [put("a"), del("a")] }],
  ["delete then put of the key", { success: [del("a"), put("a")] }],
  ["put inside a deleted range", { success: [put("b"), del("a", "c")] }],
  ["put at a deleted range's end", { success: [put("c"), del("a", "c")] }],
  ["put with a from-key delete (etcd ignores it)", { success: [put("a"), del("a", [0])] }],
  ["same key in success and failure", { success: [put("a")], failure: [put("a")] }],
  ["nested put and outer put", { success: [txn([put("a")]), put("a")] }],
  ["nested then/else put the same key", { success: [txn([put("a")], [put("a")])] }],
  ["two nested txns put one key", { success: [txn([put("a")]), txn([put("a")])] }],
  ["nested delete, outer put", { success: [txn([del("a")]), put("a")] }],
  ["nested delete before nested put", { success: [txn([del("a")]), txn([put("a")])] }],
  ["nested put before nested delete", { success: [txn([put("a")]), txn([del("a")])] }],
  ["nested put then, delete else", { success: [txn([put("a")], [del("a")])] }],
  ["range and put of one key", { success: [get("a"), put("a")] }],
  ["byte order of keys above 0x7f", { success: [put([0xa0]), del([0x7f], [0xc0])] }],
  ["empty request op", { success: [create(RequestOpSchema, {})] }],
  ["compare with empty key", { compare: [{ key: b("") }], success: [put("a")] }],
  ["empty key in a nested put", { success: [txn([put("")])] }],
  ["128 compares", { compare: Array.from({ length: 128 }, () => ({ key: b("k") })) }],
  ["129 compares", { compare: Array.from({ length: 129 }, () => ({ key: b("k") })) }],
  ["129 failure ops", { failure: puts(129, "f") }],
  ["nested txn over the ops left", { success: [...puts(100, "p"), txn(puts(29, "q"))] }],
  ["nested txn within the ops left", { success: [...puts(100, "p"), txn(puts(28, "q"))] }],
  ["ignore_value with a value in a txn", { success: [put("a", { ignoreValue: true })] }],
];

const putCases: [string, PutInit][] = [
  ["empty key", { key: b(""), value: b("x") }],
  ["ignore_value with a value", { key: b("k"), value: b("x"), ignoreValue: true }],
  ["ignore_lease with a lease", { key: b("k"), lease: 5n, ignoreLease: true }],
];

type Outcome = "ok" | { code: number; message: string };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    return { code: e.code, message: e.rawMessage };
  }
}

let real: RealEtcd;
let ours: ClientListeners;
let realKv: Client<typeof KV>;
let ourKv: Client<typeof KV>;

beforeAll(async () => {
  real = await startRealEtcd("kvcheck");
  const cfg = parseConfig(["--listen-client-urls", "http://127.0.0.1:0", "--advertise-client-urls", "http://127.0.0.1:0"], {});
  if (cfg.kind !== "run") throw new Error("config");
  ours = await startClientListeners(cfg.config, createFakeApi(), createLogger({ write: () => {} }));
  await real.waitForLog("serving client traffic insecurely; this is strongly discouraged!");
  realKv = createClient(KV, createGrpcTransport({ baseUrl: real.clientUrl }));
  ourKv = createClient(KV, createGrpcTransport({ baseUrl: ours.urls[0]! }));
});
afterAll(async () => {
  await Promise.all([real?.stop(), ours?.close()]);
});

describe("Txn validation matches etcd 3.4", () => {
  test.each(txnCases)("%s", async (_name, req) => {
    const expected = await outcome(realKv.txn(req));
    expect(await outcome(ourKv.txn(req))).toEqual(expected);
  });

  test("the cases cover both outcomes", async () => {
    const results = await Promise.all(txnCases.map(([, req]) => outcome(realKv.txn(req))));
    expect(results.filter((r) => r === "ok").length).toBeGreaterThan(5);
    expect(new Set(results.filter((r) => r !== "ok").map((r) => JSON.stringify(r))).size).toBe(5); // duplicate key, key not found, empty key, too many ops, value provided
  });
});

describe("Put, Range, DeleteRange validation matches etcd 3.4", () => {
  test.each(putCases)("put: %s", async (_name, req) => {
    expect(await outcome(ourKv.put(req))).toEqual(await outcome(realKv.put(req)));
  });

  test("empty keys in range and delete", async () => {
    expect(await outcome(ourKv.range({ key: b("") }))).toEqual(await outcome(realKv.range({ key: b("") })));
    expect(await outcome(ourKv.deleteRange({ key: b("") }))).toEqual(await outcome(realKv.deleteRange({ key: b("") })));
  });
});
