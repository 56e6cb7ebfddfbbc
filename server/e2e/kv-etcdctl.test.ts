/**
 * etcdctl against a running server: the Go etcdctl 3.4 (reference) and ours, each in its own key
 * namespace, must print exactly what Go etcdctl prints for put/get/del/txn/compaction/member
 * list/endpoint status/endpoint health. Expected texts were read off etcd 3.4.23
 * (etcdctl/ctlv3/command/printer_simple.go). Then our `-w json` must equal Go's for the same reads.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, type EtcdGrpc, grpcClients, text } from "./clients.ts";
import {
  cleanup,
  ETCDCTLS,
  type EtcdProcess,
  expectOk,
  goEtcdctl,
  OUR_ETCDCTL_IS_GO_34,
  ourEtcdctl,
  startEtcd,
} from "./harness.ts";

// Each test starts/stops real processes: allow more than bun's 5 s default.
setDefaultTimeout(60_000);

let etcd: EtcdProcess;
let grpc: EtcdGrpc;

beforeAll(async () => {
  etcd = await startEtcd({ name: "kv" });
  grpc = grpcClients(etcd.endpoint);
});
afterAll(cleanup);

/** Current value and mod_revision of `key`, read with a plain gRPC Range. */
async function read(key: string): Promise<{ value: string; modRevision: bigint } | undefined> {
  const r = await grpc.kv.range({ key: bytes(key) });
  const kv = r.kvs[0];
  return kv && { value: text(kv.value), modRevision: kv.modRevision };
}

/** Simple-format text of key/value pairs: "key\nvalue\n" each. */
function pairs(...kvs: [string, string][]): string {
  return kvs.map(([k, v]) => `${k}\n${v}\n`).join("");
}

const TXN_PROMPTS = "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n";

for (const cli of ETCDCTLS) {
  describe(cli.name, () => {
    const P = cli.name.startsWith("go") ? "/go/" : "/ours/";
    const ctl = (...args: string[]) => cli.run(etcd.endpoint, args);
    let revA1 = 0n;

    test("put prints OK and stores the value", async () => {
      expectOk(await ctl("put", `${P}a`, "va1"), "OK\n");
      const a = await read(`${P}a`);
      expect(a?.value).toBe("va1");
      revA1 = a!.modRevision;
    });

    test("put --prev-kv prints the previous pair", async () => {
      expectOk(await ctl("put", `${P}b`, "vb"), "OK\n");
      expectOk(await ctl("put", `${P}c`, "vc"), "OK\n");
      expectOk(await ctl("put", `${P}a`, "va2", "--prev-kv"), `OK\n${P}a\nva1\n`);
      expect((await read(`${P}a`))?.value).toBe("va2");
    });

    test("get of one key and of a missing key", async () => {
      expectOk(await ctl("get", `${P}a`), pairs([`${P}a`, "va2"]));
      expectOk(await ctl("get", `${P}missing`), "");
    });

    test("get --prefix", async () => {
      expectOk(await ctl("get", P, "--prefix"), pairs([`${P}a`, "va2"], [`${P}b`, "vb"], [`${P}c`, "vc"]));
    });

    test("get --from-key --limit", async () => {
      expectOk(await ctl("get", `${P}a`, "--from-key", "--limit", "2"), pairs([`${P}a`, "va2"], [`${P}b`, "vb"]));
    });

    test("get with a range end", async () => {
      expectOk(await ctl("get", `${P}a`, `${P}c`), pairs([`${P}a`, "va2"], [`${P}b`, "vb"]));
    });

    test("get --rev reads an older revision", async () => {
      expectOk(await ctl("get", `${P}a`, "--rev", String(revA1)), pairs([`${P}a`, "va1"]));
    });

    test("get --sort-by=KEY --order=DESCEND", async () => {
      expectOk(
        await ctl("get", P, "--prefix", "--sort-by=KEY", "--order=DESCEND"),
        pairs([`${P}c`, "vc"], [`${P}b`, "vb"], [`${P}a`, "va2"]),
      );
    });

    test("get --sort-by=MODIFY --order=ASCEND", async () => {
      expectOk(
        await ctl("get", P, "--prefix", "--sort-by=MODIFY", "--order=ASCEND"),
        pairs([`${P}b`, "vb"], [`${P}c`, "vc"], [`${P}a`, "va2"]),
      );
    });

    test("get --keys-only prints each key followed by an empty line", async () => {
      expectOk(await ctl("get", P, "--prefix", "--keys-only"), `${P}a\n\n${P}b\n\n${P}c\n\n`);
    });

    test("get --print-value-only", async () => {
      expectOk(await ctl("get", P, "--prefix", "--print-value-only"), "va2\nvb\nvc\n");
    });

    test.skipIf(cli.name.startsWith("go") || OUR_ETCDCTL_IS_GO_34)(
      "get --count-only -w fields (etcdctl 3.5 flag, absent from Go etcdctl 3.4)",
      async () => {
        const r = await ctl("get", P, "--prefix", "--count-only", "-w", "fields");
        expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(r.stdout).toContain(`"Count" : 3\n`);
        expect(r.stdout).not.toContain(`"Key"`);
      },
    );

    test("get --consistency=s and =l", async () => {
      expectOk(await ctl("get", `${P}b`, "--consistency=s"), pairs([`${P}b`, "vb"]));
      expectOk(await ctl("get", `${P}b`, "--consistency=l"), pairs([`${P}b`, "vb"]));
    });

    test("del prints the number of deleted keys", async () => {
      for (const k of ["d/1", "d/2", "d/3"]) expectOk(await ctl("put", `${P}${k}`, "x"), "OK\n");
      expectOk(await ctl("del", `${P}d/1`), "1\n");
      expectOk(await ctl("del", `${P}nothing`), "0\n");
      expectOk(await ctl("del", `${P}d/`, "--prefix"), "2\n");
      expect(await read(`${P}d/2`)).toBeUndefined();
    });

    test("del --prev-kv prints the deleted pairs", async () => {
      expectOk(await ctl("put", `${P}e`, "ve"), "OK\n");
      expectOk(await ctl("del", `${P}e`, "--prev-kv"), `1\n${P}e\nve\n`);
    });

    test("del --from-key --prev-kv deletes every key from the given one on", async () => {
      const from = `~${P}from/`;
      for (const k of ["x1", "x2"]) expectOk(await ctl("put", `${from}${k}`, `v${k}`), "OK\n");
      const before = await grpc.kv.range({ key: bytes(from), rangeEnd: new Uint8Array([0]) });
      expect(before.kvs.length).toBeGreaterThanOrEqual(2);
      const expected = `${before.kvs.length}\n` + before.kvs.map((kv) => `${text(kv.key)}\n${text(kv.value)}\n`).join("");
      expectOk(await ctl("del", from, "--from-key", "--prev-kv"), expected);
      const after = await grpc.kv.range({ key: bytes(from), rangeEnd: new Uint8Array([0]), countOnly: true });
      expect(after.count).toBe(0n);
    });

    test("txn -i takes the success branch", async () => {
      expectOk(await ctl("put", `${P}t1`, "v1"), "OK\n");
      const stdin = `value("${P}t1") = "v1"\n\nput ${P}t2 "yes"\nget ${P}t1\n\nput ${P}t2 "no"\n\n`;
      const r = await cli.run(etcd.endpoint, ["txn", "-i"], { stdin });
      expectOk(r, `${TXN_PROMPTS}SUCCESS\n\nOK\n\n${P}t1\nv1\n`);
      expect((await read(`${P}t2`))?.value).toBe("yes");
    });

    test("txn -i takes the failure branch", async () => {
      const stdin = `value("${P}t1") = "other"\nmod("${P}t1") > "0"\n\nput ${P}t2 "yes"\n\nput ${P}t2 "no"\nget ${P}t2\n\n`;
      const r = await cli.run(etcd.endpoint, ["txn", "-i"], { stdin });
      expectOk(r, `${TXN_PROMPTS}FAILURE\n\nOK\n\n${P}t2\nno\n`);
      expect((await read(`${P}t2`))?.value).toBe("no");
    });

    test("compaction, then a read at a compacted revision fails", async () => {
      const rev = (await grpc.kv.range({ key: bytes(`${P}a`) })).header!.revision;
      expectOk(await ctl("compaction", String(rev)), `compacted revision ${rev}\n`);
      const r = await ctl("get", `${P}a`, "--rev", String(revA1));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Error: etcdserver: mvcc: required revision has been compacted\n");
      expect(r.stdout).toBe("");
      const again = await ctl("compaction", String(rev));
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("Error: etcdserver: mvcc: required revision has been compacted\n");
    });

    test("compaction --physical", async () => {
      expectOk(await ctl("put", `${P}p`, "x"), "OK\n");
      const rev = (await read(`${P}p`))!.modRevision;
      expectOk(await ctl("compaction", String(rev), "--physical"), `compacted revision ${rev}\n`);
      const future = await ctl("compaction", String(rev + 1000n));
      expect(future.code).toBe(1);
      expect(future.stderr).toContain("Error: etcdserver: mvcc: required revision is a future revision\n");
      expectOk(await ctl("get", `${P}b`), pairs([`${P}b`, "vb"]));
    });

    test("member list", async () => {
      const id = (await grpc.kv.range({ key: bytes("x") })).header!.memberId.toString(16);
      expectOk(
        await ctl("member", "list"),
        `${id}, started, kv, http://127.0.0.1:${etcd.peerPort}, ${etcd.endpoint}, false\n`,
      );
    });

    test("endpoint status", async () => {
      const id = (await grpc.kv.range({ key: bytes("x") })).header!.memberId.toString(16);
      const r = await ctl("endpoint", "status");
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
      // endpoint, ID, version, db size, is leader, is learner, raft term, raft index, applied index, errors
      const re = new RegExp(`^${etcd.endpoint}, ${id}, \\d+\\.\\d+\\.\\d+, [\\d.]+ [kMG]?B, true, false, \\d+, \\d+, \\d+, \\n$`);
      expect(r.stdout).toMatch(re);
    });

    test("endpoint health (printed on stderr, like Go etcdctl)", async () => {
      const r = await ctl("endpoint", "health");
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(
        new RegExp(`^${etcd.endpoint} is healthy: successfully committed proposal: took = \\S+\\n$`, "m"),
      );
      const j = await ctl("endpoint", "health", "-w", "json");
      expect(j.code).toBe(0);
      expect(JSON.parse(j.stdout)).toEqual([{ endpoint: etcd.endpoint, health: true, took: expect.any(String) }]);
    });
  });
}

describe("our -w json equals Go etcdctl's -w json", () => {
  const J = "/json/";
  let rev1 = 0n;

  beforeAll(async () => {
    rev1 = (await grpc.kv.put({ key: bytes(`${J}k1`), value: bytes("one") })).header!.revision;
    await grpc.kv.put({ key: bytes(`${J}k2`), value: bytes("two") });
    await grpc.kv.put({ key: bytes(`${J}k1`), value: bytes("uno") });
    await grpc.kv.put({ key: bytes(`${J}k3`), value: new Uint8Array([0, 255, 10]) });
  });

  const reads: [string, () => string[]][] = [
    ["one key", () => ["get", `${J}k1`]],
    ["prefix", () => ["get", J, "--prefix"]],
    ["prefix with --limit (more=true)", () => ["get", J, "--prefix", "--limit", "1"]],
    ["keys only, sorted by value descending", () => ["get", J, "--prefix", "--keys-only", "--sort-by=VALUE", "--order=DESCEND"]],
    ["missing key", () => ["get", `${J}nope`]],
    ["older revision", () => ["get", `${J}k1`, "--rev", String(rev1)]],
    ["serializable", () => ["get", J, "--prefix", "--consistency=s"]],
    ["member list", () => ["member", "list"]],
  ];

  for (const [label, args] of reads) {
    test(label, async () => {
      const go = await goEtcdctl(etcd.endpoint, [...args(), "-w", "json"]);
      const ours = await ourEtcdctl(etcd.endpoint, [...args(), "-w", "json"]);
      expect(go.code).toBe(0);
      expectOk(ours, go.stdout);
    });
  }
});
