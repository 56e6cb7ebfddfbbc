/**
 * The Lock (`v3lockpb.Lock`) and Election (`v3electionpb.Election`) gRPC services of the release
 * binary, driven by a plain gRPC client, Go etcdctl 3.4 (`lock`, `elect`, which use
 * clientv3/concurrency on the KV API) and the `etcd3` npm client (its own KV-based `lock()` and
 * `election()`): contention, hand-over on unlock and on lease expiry, canceled waiters, campaign,
 * proclaim, observe, resign and etcd's exact error codes and messages. Every expectation was
 * read off etcd 3.4.23 (passes with E2E_ETCD_BIN=/usr/bin/etcd).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type Client, Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Etcd3 } from "etcd3";
import { KV, Lease } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Election, type LeaderResponse } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { Lock } from "../../proto/gen/v3lockpb/v3lock_pb.ts";
import { bytes, rpcError, settlesWithin, text } from "./clients.ts";
import { cleanup, type EtcdProcess, ETCDCTLS, GO_ETCDCTL, ourEtcdctlBin, startEtcd } from "./harness.ts";
import { waitFor } from "../http/test-util.ts";

setDefaultTimeout(60_000);

let etcd: EtcdProcess;
let lock: Client<typeof Lock>;
let election: Client<typeof Election>;
let lease: Client<typeof Lease>;
let kv: Client<typeof KV>;

beforeAll(async () => {
  etcd = await startEtcd({ name: "lockelect" });
  const t = createGrpcTransport({ baseUrl: etcd.endpoint });
  lock = createClient(Lock, t);
  election = createClient(Election, t);
  lease = createClient(Lease, t);
  kv = createClient(KV, t);
});
afterAll(cleanup);

/** Grants lease `id` (fixed IDs make the lock keys `<name>/<id hex>` predictable). */
async function grant(id: bigint, ttl = 60n): Promise<bigint> {
  return (await lease.leaseGrant({ ID: id, TTL: ttl })).ID;
}

/** Keys under `prefix`, oldest first. */
async function keysUnder(prefix: string): Promise<string[]> {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const r = await kv.range({ key: bytes(prefix), rangeEnd: bytes(end), keysOnly: true, sortTarget: 1, sortOrder: 1 });
  return r.kvs.map((k) => text(k.key));
}

describe("Lock service", () => {
  test("lease 0: key <name>/<lease hex> on a fresh 60 s lease; header at the lock's revision", async () => {
    const r = await lock.lock({ name: bytes("free") });
    const m = /^free\/([0-9a-f]+)$/.exec(text(r.key));
    expect(m).not.toBeNull();
    const ttl = await lease.leaseTimeToLive({ ID: BigInt(`0x${m![1]}`), keys: true });
    expect(ttl.grantedTTL).toBe(60n);
    expect(ttl.keys.map(text)).toEqual([text(r.key)]);
    const got = await kv.range({ key: r.key });
    expect(got.kvs[0]!.createRevision).toBe(r.header!.revision);
    expect(got.kvs[0]!.value.length).toBe(0);
    await lock.unlock({ key: r.key });
  });

  test("two clients contend: the second gets the lock once the first unlocks", async () => {
    const [a, b] = [await grant(0xa1n), await grant(0xb1n)];
    const first = await lock.lock({ name: bytes("door"), lease: a });
    expect(text(first.key)).toBe("door/a1");
    const second = lock.lock({ name: bytes("door"), lease: b });
    expect(await settlesWithin(second, 500)).toBe(false);
    // Locking again with the holder's lease is the same acquisition.
    expect(text((await lock.lock({ name: bytes("door"), lease: a })).key)).toBe("door/a1");
    const unlocked = await lock.unlock({ key: first.key });
    const got = await second;
    expect(text(got.key)).toBe("door/b1");
    expect(got.header!.revision).toBe(unlocked.header!.revision);
    expect(await keysUnder("door/")).toEqual(["door/b1"]);
    await lock.unlock({ key: got.key });
  });

  test("the holder's lease expiring hands the lock on", async () => {
    const [a, b] = [await grant(0xa2n, 2n), await grant(0xb2n)];
    await lock.lock({ name: bytes("exp"), lease: a });
    const started = Date.now();
    const got = await lock.lock({ name: bytes("exp"), lease: b });
    expect(text(got.key)).toBe("exp/b2");
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect((await lease.leaseTimeToLive({ ID: a })).TTL).toBe(-1n);
    await lock.unlock({ key: got.key });
  });

  test("a waiter whose client goes away withdraws its key", async () => {
    const [a, b] = [await grant(0xa3n), await grant(0xb3n)];
    await lock.lock({ name: bytes("gone"), lease: a });
    const ac = new AbortController();
    const waiting = lock.lock({ name: bytes("gone"), lease: b }, { signal: ac.signal });
    await Bun.sleep(300);
    expect(await keysUnder("gone/")).toEqual(["gone/a3", "gone/b3"]);
    ac.abort();
    expect((await rpcError(waiting)).code).toBe(Code.Canceled);
    for (let i = 0; i < 50 && (await keysUnder("gone/")).length > 1; i++) await Bun.sleep(50);
    expect(await keysUnder("gone/")).toEqual(["gone/a3"]);
  });

  test("errors as etcd's in-process client hands them on (Unknown)", async () => {
    const e1 = await rpcError(lock.lock({ name: bytes("x"), lease: 12345n }));
    expect([e1.code, e1.rawMessage]).toEqual([Code.Unknown, "etcdserver: requested lease not found"]);
    const e2 = await rpcError(lock.unlock({ key: new Uint8Array(0) }));
    expect([e2.code, e2.rawMessage]).toEqual([Code.Unknown, "etcdserver: key is not provided"]);
    const ok = await lock.unlock({ key: bytes("no/such/key") });
    expect(ok.header!.revision).toBeGreaterThan(0n);
  });
});

/** Reads an Observe stream in the background into `seen` (values) until aborted. */
function observeInto(name: string, seen: string[]): AbortController {
  const ac = new AbortController();
  void (async () => {
    try {
      for await (const r of election.observe({ name: bytes(name) }, { signal: ac.signal })) seen.push(text((r as LeaderResponse).kv!.value));
    } catch {
      // aborted
    }
  })();
  return ac;
}

/** Polls `cond` every 25 ms for up to `ms`. */
const until = (cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> => waitFor(cond, "the condition", ms, 25);

describe("Election service", () => {
  test("campaign, leader, proclaim, observe, resign, hand-over to the next candidate", async () => {
    const [a, b] = [await grant(0xc1n), await grant(0xd1n)];
    const e1 = await rpcError(election.leader({ name: bytes("vote") }));
    expect([e1.code, e1.rawMessage]).toEqual([Code.Unknown, "election: no leader"]);
    const seen: string[] = [];
    const obs = observeInto("vote", seen);
    const c1 = await election.campaign({ name: bytes("vote"), lease: a, value: bytes("one") });
    expect(text(c1.leader!.name)).toBe("vote");
    expect(text(c1.leader!.key)).toBe("vote/c1");
    expect(c1.leader!.rev).toBe(c1.header!.revision);
    expect(c1.leader!.lease).toBe(a);
    const second = election.campaign({ name: bytes("vote"), lease: b, value: bytes("two") });
    expect(await settlesWithin(second, 300)).toBe(false);
    const p = await election.proclaim({ leader: c1.leader, value: bytes("one+") });
    const l = await election.leader({ name: bytes("vote") });
    expect([text(l.kv!.key), text(l.kv!.value), l.kv!.modRevision]).toEqual(["vote/c1", "one+", p.header!.revision]);
    await election.resign({ leader: c1.leader });
    const c2 = await second;
    expect(text(c2.leader!.key)).toBe("vote/d1");
    await until(() => seen.length >= 3);
    expect(seen).toEqual(["one", "one+", "two"]);
    // A deposed leader can neither proclaim nor resign its successor away.
    const e2 = await rpcError(election.proclaim({ leader: c1.leader, value: bytes("stale") }));
    expect([e2.code, e2.rawMessage]).toEqual([Code.Unknown, "election: not leader"]);
    await election.resign({ leader: c1.leader });
    expect(text((await election.leader({ name: bytes("vote") })).kv!.value)).toBe("two");
    // Campaigning again with the same lease resumes the leadership and proclaims a new value.
    const again = await election.campaign({ name: bytes("vote"), lease: b, value: bytes("two+") });
    expect(again.leader!.rev).toBe(c2.leader!.rev);
    await until(() => seen.length >= 4);
    expect(seen).toEqual(["one", "one+", "two", "two+"]);
    await election.resign({ leader: c2.leader });
    obs.abort();
  });

  test("errors: missing leader, empty key, unknown lease", async () => {
    for (const call of [election.proclaim({ value: bytes("v") }), election.resign({})]) {
      const e = await rpcError(call);
      expect([e.code, e.rawMessage]).toEqual([Code.Unknown, '"leader" field must be provided']);
    }
    const e1 = await rpcError(election.proclaim({ leader: {}, value: bytes("v") }));
    expect([e1.code, e1.rawMessage]).toEqual([Code.Unknown, "etcdserver: key is not provided"]);
    const e2 = await rpcError(election.campaign({ name: bytes("bad"), lease: 999n, value: bytes("v") }));
    expect([e2.code, e2.rawMessage]).toEqual([Code.Unknown, "etcdserver: requested lease not found"]);
  });
});

/** A long-running etcdctl (`bin`, default Go's) whose stdout and stderr are collected as they arrive. */
function spawnGoEtcdctl(args: string[], bin = GO_ETCDCTL) {
  const proc = Bun.spawn({
    cmd: [bin, `--endpoints=${etcd.endpoint}`, ...args],
    env: { ...process.env, ETCDCTL_API: "3" } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) out += dec.decode(chunk, { stream: true });
  })();
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) err += dec.decode(chunk, { stream: true });
  })();
  return {
    proc,
    output: () => out,
    errors: () => err,
    /** SIGINT (etcdctl unlocks/resigns and exits) and wait for the exit; SIGKILL and fail after 5 s. */
    async interrupt(): Promise<number> {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exited;
      process.kill(proc.pid, "SIGINT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      const code = await proc.exited;
      clearTimeout(timer);
      if (proc.signalCode === "SIGKILL") throw new Error(`etcdctl ${args.join(" ")} ignored SIGINT; stdout: ${out} stderr: ${err}`);
      return code;
    },
  };
}

describe("with Go etcdctl and the etcd3 client", () => {
  test("etcdctl lock holds against the Lock service; etcdctl elect -l observes a gRPC campaign", async () => {
    const holder = spawnGoEtcdctl(["lock", "shared"]);
    try {
      await until(() => /^shared\/[0-9a-f]+\n\n$/.test(holder.output()));
      const waiting = lock.lock({ name: bytes("shared"), lease: await grant(0xe1n) });
      expect(await settlesWithin(waiting, 300)).toBe(false);
      expect(await holder.interrupt()).toBe(0);
      expect(text((await waiting).key)).toBe("shared/e1");
    } finally {
      await holder.interrupt();
    }

    const listener = spawnGoEtcdctl(["elect", "-l", "pick"]);
    const candidate = spawnGoEtcdctl(["elect", "pick", "go-value"]);
    try {
      await until(() => /^pick\/[0-9a-f]+\ngo-value\n$/.test(candidate.output()));
      const c = election.campaign({ name: bytes("pick"), lease: await grant(0xe2n), value: bytes("grpc-value") });
      expect(await settlesWithin(c, 300)).toBe(false);
      expect(text((await election.leader({ name: bytes("pick") })).kv!.value)).toBe("go-value");
      expect(await candidate.interrupt()).toBe(0);
      const won = await c;
      await until(() => listener.output().endsWith("pick/e2\ngrpc-value\n"));
      await election.proclaim({ leader: won.leader, value: bytes("grpc-value+") });
      await until(() => listener.output().endsWith("pick/e2\ngrpc-value+\n"));
      expect(listener.output()).toMatch(/^pick\/[0-9a-f]+\ngo-value\npick\/e2\ngrpc-value\npick\/e2\ngrpc-value\+\n$/);
      await election.resign({ leader: won.leader });
    } finally {
      await candidate.interrupt();
      await listener.interrupt();
    }
  });

  test("etcd3 client: lock() excludes a second holder; election() campaigns seen by the Election service", async () => {
    const c1 = new Etcd3({ hosts: etcd.endpoint });
    const c2 = new Etcd3({ hosts: etcd.endpoint });
    try {
      const held = await c1.lock("js-lock").ttl(5).acquire();
      const refused = await c2.lock("js-lock").acquire().then(() => "acquired", (e: unknown) => String(e));
      expect(refused).toBe("Error: Failed to acquire a lock on js-lock");
      await held.release();
      const again = await c2.lock("js-lock").acquire();
      await again.release();

      // etcd3 keeps its candidates under election/<name>/<lease id>: the same layout as etcd's.
      const campaign = c1.election("js-vote", 5).campaign("js-one");
      await campaign.wait();
      const l = await election.leader({ name: bytes("election/js-vote") });
      expect(text(l.kv!.value)).toBe("js-one");
      const observer = await c2.election("js-vote").observe();
      const changes: (string | undefined)[] = [];
      observer.on("change", (v) => changes.push(v));
      const grpcCandidate = election.campaign({ name: bytes("election/js-vote"), lease: await grant(0xf1n), value: bytes("grpc") });
      expect(await settlesWithin(grpcCandidate, 300)).toBe(false);
      await campaign.resign();
      const won = await grpcCandidate;
      expect(text(won.leader!.key)).toBe("election/js-vote/f1");
      await until(() => changes.includes("grpc"));
      expect(await c1.election("js-vote").leader()).toBe("grpc");
      await observer.cancel();
      await election.resign({ leader: won.leader });
    } finally {
      c1.close();
      c2.close();
    }
  });
});

describe.each(ETCDCTLS)("$name lock and elect", ({ name, run }) => {
  const bin = name === "go etcdctl" ? GO_ETCDCTL : ourEtcdctlBin();
  const tag = name === "go etcdctl" ? "go" : "ours";

  test("lock: holder prints its key, a second waits and takes over on SIGINT; an interrupted waiter withdraws", async () => {
    const lockName = `ctl-${tag}`;
    const holder = spawnGoEtcdctl(["lock", lockName], bin);
    await until(() => new RegExp(`^${lockName}/[0-9a-f]+\\n\\n$`).test(holder.output()));
    const next = spawnGoEtcdctl(["lock", "--ttl=5", lockName], bin);
    await until(async () => (await keysUnder(`${lockName}/`)).length === 2);
    const quitter = spawnGoEtcdctl(["lock", lockName], bin);
    try {
      const holderKey = holder.output().split("\n")[0]!;
      // The session lease has the --ttl (default 10 s) and is kept alive.
      const holderLease = BigInt(`0x${holderKey.split("/")[1]}`);
      expect((await lease.leaseTimeToLive({ ID: holderLease })).grantedTTL).toBe(10n);
      await until(async () => (await keysUnder(`${lockName}/`)).length === 3);
      expect(quitter.proc.exitCode).toBeNull();
      expect(await quitter.interrupt()).toBe(1);
      // Go etcdctl may log clientv3's retry warning first when the interrupt cuts a request short.
      expect(quitter.errors()).toEndWith("Error: context canceled\n");
      expect(await holder.interrupt()).toBe(0);
      await until(() => next.output() !== "");
      expect(next.output()).toMatch(new RegExp(`^${lockName}/[0-9a-f]+\\n\\n$`));
      const nextKey = next.output().split("\n")[0]!;
      expect((await lease.leaseTimeToLive({ ID: BigInt(`0x${nextKey.split("/")[1]}`) })).grantedTTL).toBe(5n);
      expect(await keysUnder(`${lockName}/`)).toEqual([nextKey]);
      expect(await next.interrupt()).toBe(0);
      expect(await keysUnder(`${lockName}/`)).toEqual([]);
    } finally {
      await Promise.all([holder.interrupt(), next.interrupt(), quitter.interrupt()]);
    }
  });

  test("lock: a revoked session lease ends the command with 'session expired'", async () => {
    const holder = spawnGoEtcdctl(["lock", "--ttl=3", `revoked-${tag}`], bin);
    try {
      await until(() => holder.output().endsWith("\n\n"));
      const id = BigInt(`0x${holder.output().split("\n")[0]!.split("/")[1]}`);
      await lease.leaseRevoke({ ID: id });
      expect(await holder.proc.exited).toBe(1);
      expect(holder.errors()).toBe("Error: session expired\n");
    } finally {
      await holder.interrupt();
    }
  });

  test("lock with a command: ETCD_LOCK_KEY and ETCD_LOCK_REV, the command's failure, unlocked afterwards", async () => {
    const lockName = `exec-${tag}`;
    const r = await run(etcd.endpoint, ["lock", lockName, "--", "sh", "-c", 'echo "$ETCD_LOCK_KEY $ETCD_LOCK_REV"; exit 3']);
    expect([r.code, r.stderr]).toEqual([1, "Error: exit status 3\n"]);
    const [key, rev] = r.stdout.trim().split(" ");
    expect(key).toMatch(new RegExp(`^${lockName}/[0-9a-f]+$`));
    expect(BigInt(rev!)).toBeGreaterThan(1n);
    expect(await keysUnder(`${lockName}/`)).toEqual([]);
    const missing = await run(etcd.endpoint, ["lock", lockName, "no-such-command-xyz"]);
    expect([missing.code, missing.stderr]).toEqual([1, 'Error: exec: "no-such-command-xyz": executable file not found in $PATH\n']);
    for (const [args, message] of [
      [["lock"], "lock takes a lock name argument and an optional command to execute"],
      [["elect"], "elect takes one election name argument and an optional proposal argument"],
      [["elect", "a"], "no proposal argument but -l not set"],
      [["elect", "-l", "a", "b"], "proposal given but -l is set"],
    ] as const) {
      const bad = await run(etcd.endpoint, [...args]);
      expect([bad.code, bad.stdout, bad.stderr]).toEqual([128, "", `Error: ${message}\n`]);
    }
  });

  test("elect: a listener sees each leader's proposal; the next candidate wins when the leader resigns on SIGINT", async () => {
    const election = `ctl-vote-${tag}`;
    const listener = spawnGoEtcdctl(["elect", "-l", election], bin);
    const first = spawnGoEtcdctl(["elect", election, "first"], bin);
    try {
      await until(() => /\nfirst\n$/.test(first.output()));
      const second = spawnGoEtcdctl(["elect", election, "second"], bin);
      try {
        await until(async () => (await keysUnder(`${election}/`)).length === 2);
        expect(second.output()).toBe("");
        expect(await first.interrupt()).toBe(0);
        await until(() => /\nsecond\n$/.test(second.output()));
        await until(() => /\nsecond\n$/.test(listener.output()));
        const [k1, k2] = [first.output().split("\n")[0], second.output().split("\n")[0]];
        expect(listener.output()).toBe(`${k1}\nfirst\n${k2}\nsecond\n`);
        expect(await second.interrupt()).toBe(0);
      } finally {
        await second.interrupt();
      }
      expect(await listener.interrupt()).toBe(0);
      expect(await keysUnder(`${election}/`)).toEqual([]);
    } finally {
      await Promise.all([first.interrupt(), listener.interrupt()]);
    }
  });
});
