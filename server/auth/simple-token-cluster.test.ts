/**
 * Simple tokens name the log index of their Authenticate entry; a member that has not applied that
 * entry yet waits for it, bounded by the request timeout, as etcd's isValidSimpleToken waits on
 * its applyWait (auth/simple_token.go, etcdserver/server.go). In-process 3-member cluster.
 */
import { afterAll, expect, test } from "bun:test";
import { Errors } from "../errors.ts";
import type { Message } from "../raft/types.ts";
import type { EtcdNode } from "../node/etcd-node.ts";
import { TestCluster } from "../node/testing.ts";

const REQUEST_TIMEOUT_MS = 1500;
/**
 * Cheap password hashes, and an election timeout well above the time a follower's inbound
 * messages are held here, so the held follower does not campaign.
 */
const OPTIONS = { requestTimeoutMs: REQUEST_TIMEOUT_MS, bcryptCost: 4, electionTimeoutMs: 1500 };
const clusters: TestCluster[] = [];
afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
});

/** Holds every message delivered to `node` until the returned release() hands them over in order. */
function holdInbound(node: EtcdNode): () => void {
  const held: Message[] = [];
  const step = node.step.bind(node);
  node.step = (m: Message) => void held.push(m);
  return () => {
    node.step = step;
    for (const m of held) step(m);
  };
}

async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true), () => (settled = true));
  await Bun.sleep(ms);
  return settled;
}

test("a follower given a token minted at an index it has not applied waits for it, then accepts it", async () => {
  const c = await TestCluster.start(3, OPTIONS);
  clusters.push(c);
  const leader = await c.leader();
  await leader.auth.userAdd({ name: "root", password: "pw" } as never, undefined);
  await leader.auth.userGrantRole({ user: "root", role: "root" } as never, undefined);
  await leader.auth.authEnable(undefined);
  const follower = await c.follower();

  const release = holdInbound(follower);
  const { token } = await leader.auth.authenticate({ name: "root", password: "pw" } as never);
  const index = Number(token.split(".")[1]);
  expect(follower.appliedIndex).toBeLessThan(index);
  const asked = follower.auth.authInfo(token);
  // Held back by the lagging follower, not refused.
  expect(await settledWithin(asked, 200)).toBe(false);
  release();
  expect(await asked).toEqual({ username: "root", revision: expect.any(Number) });
  expect(follower.appliedIndex).toBeGreaterThanOrEqual(index);
});

test("a token naming an index the cluster never reaches is refused once the request timeout passed", async () => {
  const c = clusters[0] ?? (await TestCluster.start(3, OPTIONS));
  const follower = await c.follower();
  const start = performance.now();
  const refused = follower.auth.authInfo(`abcdefghijklmnop.${follower.appliedIndex + 1_000_000}`);
  await expect(refused).rejects.toThrow(Errors.InvalidAuthToken().rawMessage);
  // etcd waits for the index until the request's deadline; a single ReadIndex answers far sooner.
  expect(performance.now() - start).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
});
