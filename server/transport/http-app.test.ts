import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as http2 from "node:http2";
import * as net from "node:net";
import { etcdctl, startRealEtcd, type RealEtcd } from "../http/test-util.ts";
import type { MemberRecord } from "../storage/members.ts";
import { memberJson } from "./http-app.ts";
import { recordedTransport, type RecordedTransport } from "./testing.ts";

/** The members of a real etcd's `/members` answer, read without losing uint64 precision. */
function parseMembers(body: string): MemberRecord[] {
  const withStringIds = body.replace(/"id":(\d+)/g, '"id":"$1"');
  return (JSON.parse(withStringIds) as Array<Record<string, unknown>>).map((m) => ({
    id: BigInt(m.id as string),
    name: (m.name as string) ?? "",
    peerURLs: m.peerURLs as string[],
    clientURLs: (m.clientURLs as string[]) ?? [],
    isLearner: m.isLearner === true,
  }));
}

describe("GET /members and /version on the peer port", () => {
  let real: RealEtcd;
  let realMembers: string;
  let ours: RecordedTransport;

  beforeAll(async () => {
    real = await startRealEtcd("peer-http");
    await real.waitForLog("serving client traffic insecurely; this is strongly discouraged!");
    // An unstarted learner has no name and no client URLs: etcd omits both and adds isLearner.
    const add = await etcdctl(["--endpoints", real.endpoint, "member", "add", "lrn", "--learner", "--peer-urls=http://127.0.0.1:1"]);
    expect(add.code).toBe(0);
    realMembers = await (await fetch(`${real.peerUrl}/members`)).text();
    ours = await recordedTransport(7n, { clusterId: 0xabcn }, parseMembers(realMembers).reverse());
  });
  afterAll(async () => {
    await Promise.all([real?.stop(), ours?.t.close()]);
  });

  test("/members is etcd's JSON byte for byte (uint64 ids as numbers, omitempty fields, ID order)", async () => {
    expect(realMembers).toContain('"isLearner":true');
    const res = await fetch(`${ours.t.urls[0]}/members`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-etcd-cluster-id")).toBe("abc");
    expect(await res.text()).toBe(realMembers);
  });

  test("/version as etcd 3.4.23", async () => {
    const [oursRes, realRes] = await Promise.all([fetch(`${ours.t.urls[0]}/version`), fetch(`${real.peerUrl}/version`)]);
    expect(await oursRes.text()).toBe(await realRes.text());
    expect(oursRes.headers.get("content-type")).toBe("application/json");
  });

  test("wrong method 405, unknown path 404 as Go's mux", async () => {
    const post = await fetch(`${ours.t.urls[0]}/members`, { method: "POST" });
    expect(post.status).toBe(405);
    const missing = await fetch(`${ours.t.urls[0]}/nope`);
    expect([missing.status, await missing.text()]).toEqual([404, "404 page not found\n"]);
  });

  test("served over HTTP/2 prior knowledge too", async () => {
    const session = http2.connect(ours.t.urls[0]!);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": "/version" });
        let text = "";
        req.setEncoding("utf8");
        req.on("data", (c) => (text += c));
        req.on("end", () => resolve(text));
        req.on("error", reject);
      });
      expect(body).toBe('{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
    } finally {
      session.close();
    }
  });

  test("garbage bytes and a peer call with a malformed body do not hurt the listener", async () => {
    const url = new URL(ours.t.urls[0]!);
    await new Promise<void>((resolve) => {
      const s = net.connect(Number(url.port), url.hostname, () => s.end("PRI * HTTP/2.0\r\n\r\nXX garbage\r\n"));
      s.on("error", () => resolve());
      s.on("close", () => resolve());
      s.resume();
    });
    const bad = await fetch(`${ours.t.urls[0]}/etcdts.v1.Peer/Snapshot`, {
      method: "POST",
      headers: { "content-type": "application/connect+proto", "x-etcd-cluster-id": "abc", "x-server-from": "1", "x-raft-to": "7" },
      body: new Uint8Array([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]),
    });
    expect(bad.status).toBe(200); // Connect streaming errors travel in the end-of-stream message
    expect(await bad.text()).toContain("parse binary");
    expect(ours.got).toEqual([]);
    expect((await fetch(`${ours.t.urls[0]}/version`)).status).toBe(200);
  });
});

describe("memberJson", () => {
  test("escapes names and writes ids above 2^53 exactly", () => {
    expect(memberJson({ id: 0xffffffffffffffffn, name: 'a"b', peerURLs: [], clientURLs: [], isLearner: false })).toBe(
      '{"id":18446744073709551615,"peerURLs":[],"name":"a\\"b"}',
    );
  });
});
