/**
 * The v2 store is durable and replicated like etcd's: it survives `kill -9` and a restart on the
 * same data dir (its rows are written in the transaction that records the applied index), and a
 * follower that fell behind by more than the leader keeps in its log receives it, with its watch
 * history, inside the Raft snapshot (as etcd's v2 store travels in its snapshots). The history
 * across restarts is compared with etcd's in v2-history.test.ts. Runs unchanged against the real etcd
 * 3.4 with E2E_ETCD_BIN=/usr/bin/etcd.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup, startEtcd } from "./harness.ts";

setDefaultTimeout(180_000);
afterAll(cleanup);

const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function v2put(endpoint: string, key: string, body: string): Promise<Response> {
  return fetch(`${endpoint}/v2/keys${key}`, { method: "PUT", body, headers: FORM });
}

/** The recursive sorted listing of `/`, with TTL countdowns (which move) blanked. */
async function listing(endpoint: string): Promise<{ index: string | null; body: string }> {
  const res = await fetch(`${endpoint}/v2/keys/?recursive=true&sorted=true`);
  return { index: res.headers.get("x-etcd-index"), body: (await res.text()).replace(/"ttl":\d+/g, '"ttl":<n>') };
}

test("the v2 store survives kill -9 and a restart", async () => {
  const first = await startEtcd({ extraArgs: ["--enable-v2"] });
  const ep = first.endpoint;
  expect((await v2put(ep, "/a", "value=1")).status).toBe(201);
  await v2put(ep, "/dir/b", "value=2");
  await v2put(ep, "/dir/_hidden", "value=h");
  await v2put(ep, "/ttl", "value=t&ttl=600");
  await fetch(`${ep}/v2/keys/queue`, { method: "POST", body: "value=q1", headers: FORM });
  await fetch(`${ep}/v2/keys/queue`, { method: "POST", body: "value=q2", headers: FORM });
  await v2put(ep, "/a", "value=3&prevValue=1");
  await fetch(`${ep}/v2/keys/gone`, { method: "PUT", body: "value=x", headers: FORM });
  await fetch(`${ep}/v2/keys/gone`, { method: "DELETE" });
  const before = await listing(ep);
  await first.kill9();

  const second = await startEtcd({ extraArgs: ["--enable-v2"], dataDir: first.dataDir, clientPort: first.clientPort, peerPort: first.peerPort });
  const after = await listing(second.endpoint);
  expect(after.body).toBe(before.body);
  // etcd's index also counts its own records (a restarted member publishes its attributes again).
  expect(Number(after.index)).toBeGreaterThanOrEqual(Number(before.index));
  const hidden = await (await fetch(`${second.endpoint}/v2/keys/dir/_hidden`)).json();
  expect((hidden as { node: { value: string } }).node.value).toBe("h");
  // The store index goes on from where it was.
  const next = (await (await v2put(second.endpoint, "/after", "value=1")).json()) as { node: { modifiedIndex: number } };
  expect(next.node.modifiedIndex).toBe(Number(after.index) + 1);
  await second.stop();
});

/** Writes while the follower is down: more than etcd's 5 000 catch-up entries + the snapshot count. */
const PUTS = 5_300;

test("a lagging follower receives the v2 store in a Raft snapshot", async () => {
  const cluster = await TestCluster.start({ extraArgs: ["--snapshot-count", "100", "--enable-v2"] });
  const leader = await cluster.waitLeader();
  const follower = [0, 1, 2].find((i) => i !== leader.index)!;
  const ep = cluster.members[leader.index]!.clientUrl;
  await v2put(ep, "/before", "value=b");
  await cluster.kill9(follower);

  let next = 0;
  const writer = async () => {
    for (let n = next++; n < PUTS; n = next++) {
      const res = await v2put(ep, `/snap/${String(n).padStart(5, "0")}`, `value=v${n}`);
      expect(res.status).toBe(201);
    }
  };
  await Promise.all(Array.from({ length: 32 }, writer));
  await v2put(ep, "/dir/x", "value=1&ttl=600");
  await fetch(`${ep}/v2/keys/before`, { method: "DELETE" });
  const expected = await listing(ep);

  await cluster.startMember(follower);
  const lagging = cluster.members[follower]!.clientUrl;
  const deadline = Date.now() + 60_000;
  let got = await listing(lagging);
  while (got.body !== expected.body && Date.now() < deadline) {
    await Bun.sleep(200);
    got = await listing(lagging);
  }
  // A local (not quorum) read on the follower: its own store has everything.
  expect(got.body).toBe(expected.body);
  expect(cluster.members[leader.index]!.proc!.log()).toMatch(/sent database snapshot|database snapshot \[.*\] sent out successfully/);
  expect(cluster.members[follower]!.proc!.log()).toMatch(/received database snapshot|received and saved database snapshot/);
  // The watch history came in the snapshot too (etcd's holds its EventHistory): a wait from an
  // index written while the follower was down, still in the last 1000 events, gets the event
  // the leader answers; one just older than the history is refused alike.
  const top = Number(expected.index);
  const waitAnswer = async (url: string, path: string) => {
    const res = await fetch(`${url}/v2/keys${path}`, { signal: AbortSignal.timeout(5_000) });
    return `${res.status} ${res.headers.get("x-etcd-index")} ${await res.text()}`;
  };
  for (const path of [`/snap?wait=true&recursive=true&waitIndex=${top - 900}`, `/before?wait=true&waitIndex=${top - 999}`, `/snap?wait=true&recursive=true&waitIndex=${top - 1000}`]) {
    const [onLeader, onFollower] = await Promise.all([waitAnswer(ep, path), waitAnswer(lagging, path)]);
    expect(onFollower).toBe(onLeader);
  }
  expect(await waitAnswer(lagging, `/snap?wait=true&recursive=true&waitIndex=${top - 900}`)).toContain(`"modifiedIndex":${top - 900}`);
  // The caught-up follower takes v2 writes (through the log) and sees them; a watch on one member
  // sees a write made through another, and a quorum read on the follower goes through the log.
  const watch = fetch(`${lagging}/v2/keys/watched?wait=true`);
  await Bun.sleep(200);
  expect((await v2put(ep, "/watched", "value=w")).status).toBe(201);
  const event = (await (await watch).json()) as { action: string; node: { value: string } };
  expect([event.action, event.node.value]).toEqual(["set", "w"]);
  const res = await v2put(lagging, "/after", "value=a");
  expect(res.status).toBe(201);
  const quorum = (await (await fetch(`${lagging}/v2/keys/after?quorum=true`)).json()) as { node: { value: string } };
  expect(quorum.node.value).toBe("a");
  // TTL expiry is the leader's decision, applied on every member: the follower's own store drops the key.
  expect((await v2put(ep, "/short", "value=s&ttl=1")).status).toBe(201);
  await Bun.sleep(2_500);
  const expired = await fetch(`${lagging}/v2/keys/short`);
  expect([expired.status, ((await expired.json()) as { errorCode: number }).errorCode]).toEqual([404, 100]);

  // The append counters of /v2/stats/self: the leader sent, the follower received.
  const self = async (url: string) => (await (await fetch(`${url}/v2/stats/self`)).json()) as Record<string, unknown>;
  const leaderSelf = await self(ep);
  expect(leaderSelf.state).toBe("StateLeader");
  expect(leaderSelf.sendAppendRequestCnt as number).toBeGreaterThan(0);
  const followerSelf = await self(lagging);
  expect(followerSelf.state).toBe("StateFollower");
  expect(followerSelf.recvAppendRequestCnt as number).toBeGreaterThan(0);

  // /v2/members changes the membership through the log: add (unstarted), update, remove. With
  // --strict-reconfig-check a member counts as started once connected for 5 s (etcd's HealthInterval).
  await Bun.sleep(6_000);
  const json = { "content-type": "application/json" };
  const added = await fetch(`${lagging}/v2/members`, { method: "POST", body: '{"peerURLs":["http://127.0.0.1:1"]}', headers: json });
  expect(added.status).toBe(201);
  const member = (await added.json()) as { id: string; name: string; peerURLs: string[]; clientURLs: string[] };
  expect(member).toEqual({ id: member.id, name: "", peerURLs: ["http://127.0.0.1:1"], clientURLs: [] });
  const dup = await fetch(`${lagging}/v2/members`, { method: "POST", body: '{"peerURLs":["http://127.0.0.1:1"]}', headers: json });
  // Refused before the peer URL is checked: the unstarted member is not connected (etcd's ErrUnhealthy).
  expect([dup.status, await dup.text()]).toEqual([500, '{"message":"Internal Server Error"}']);
  const updated = await fetch(`${ep}/v2/members/${member.id}`, { method: "PUT", body: '{"peerURLs":["http://127.0.0.1:2"]}', headers: json });
  expect(updated.status).toBe(204);
  const list = (await (await fetch(`${ep}/v2/members`)).json()) as { members: { id: string; peerURLs: string[] }[] };
  expect(list.members.find((m) => m.id === member.id)?.peerURLs).toEqual(["http://127.0.0.1:2"]);
  const removed = await fetch(`${ep}/v2/members/${member.id}`, { method: "DELETE" });
  expect(removed.status).toBe(204);
  const again = await fetch(`${ep}/v2/members/${member.id}`, { method: "DELETE" });
  expect([again.status, await again.text()]).toEqual([410, `{"message":"Member permanently removed: ${member.id}"}`]);
  await cluster.stop();
});
