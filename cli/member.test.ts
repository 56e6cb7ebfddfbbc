/**
 * `member add|remove|update|list|promote` and `endpoint status|health --cluster`: our etcdctl
 * against the Go etcdctl 3.4, both on one real 3-member etcd 3.4 cluster, invocation by invocation.
 *
 * Invocations that change nothing (bad input, server refusals, updating a member to its own
 * URLs, listings) must give byte-identical stdout, stderr and exit code. A member added by
 * `member add` gets an ID that etcd derives from the clock, so adds are compared with the new
 * member's ID and peer URL masked (and the response's members, sorted by ID, put in one order).
 * Go's clientv3 warning lines on stderr are dropped (see testing/etcd-cluster.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fromBinary, toJsonString, type DescMessage, type Message } from "@bufbuild/protobuf";
import { MemberAddResponseSchema, type Member } from "../proto/gen/etcdserverpb/rpc_pb.ts";
import { placeEtcd } from "./testing/etcd-process.ts";
import {
  ctl,
  expectSameOutput,
  GO_ETCDCTL,
  OUR_ETCDCTL,
  OUR_ETCDCTL_DENO,
  startEtcdCluster,
  text,
  unusedPeerUrl,
  type CtlRun,
  type EtcdCluster,
} from "./testing/etcd-cluster.ts";

let cluster: EtcdCluster;
let startedAt = 0;
/** Hex IDs of the initial members, by name. */
const ids = new Map<string, string>();

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
  startedAt = Date.now();
  const list = await ctl(GO_ETCDCTL, ["--endpoints", cluster.endpoints[0]!, "member", "list"]);
  for (const line of text(list).trim().split("\n")) {
    const [id, , name] = line.split(", ");
    ids.set(name!, id!);
  }
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
});

/** `--endpoints` of the first member only, so that response headers name the same member. */
const ep = () => ["--endpoints", cluster.endpoints[0]!];
const id = (name: string) => ids.get(name)!;

/** Hex ID of the member whose peer URLs are exactly `url` (Go's `member list`), or undefined. */
async function idByPeerUrl(url: string): Promise<string | undefined> {
  const list = await ctl(GO_ETCDCTL, [...ep(), "member", "list"]);
  return text(list)
    .split("\n")
    .map((l) => l.split(", "))
    .find((cells) => cells[3] === url)?.[0];
}

/** Sorts the members of a decoded membership response by ID and zeroes the ID `newId`. */
function masked(schema: DescMessage, msg: Message & { member?: Member; members: Member[] }, newId: bigint): string {
  const zero = (m: Member) => (m.ID === newId ? { ...m, ID: 0n } : m);
  const members = msg.members.map(zero).sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  return toJsonString(schema, { ...msg, member: msg.member && zero(msg.member), members } as Message);
}

/**
 * The stdout of `member add -w <format>` with the new member's ID and peer URL masked, in a form
 * that does not depend on where the new ID sorts among the others.
 */
function maskedAdd(format: string, r: CtlRun, newHex: string, url: string): string {
  const newId = BigInt(`0x${newHex}`);
  if (format === "protobuf") {
    return masked(MemberAddResponseSchema, fromBinary(MemberAddResponseSchema, r.stdout), newId).replaceAll(url, "<url>");
  }
  let out = text(r).replaceAll(newHex.padStart(16, " "), "<id>").replaceAll(url, "<url>");
  if (format === "json") {
    // Exact JSON text of the members, then one order (the new ID sorts anywhere).
    const doc = JSON.parse(out.replace(`"ID":${newId}`, `"ID":0`).replace(`"ID":${newId}`, `"ID":0`));
    doc.members = (doc.members as unknown[]).map((m) => JSON.stringify(m)).sort();
    out = JSON.stringify(doc);
  }
  return out.replace(/^ETCD_INITIAL_CLUSTER="(.*)"$/m, (_, list: string) => `ETCD_INITIAL_CLUSTER="${list.split(",").sort().join(",")}"`);
}

/** Waits until at least `ms` have passed since the cluster started (etcd refuses adds for 5 s). */
async function settled(ms: number): Promise<void> {
  const wait = startedAt + ms - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

describe("member commands against etcd 3.4 (Go etcdctl vs ours)", () => {
  test("argument errors", async () => {
    const bad = ["zz", "-1", "+1", "0x1", "1ffffffffffffffff", ""];
    const cases: string[][] = [
      ["member", "add"],
      ["member", "add", "a", "b"],
      ["member", "add", "a", "http://x", "HTTPS://y"],
      ["member", "add", "a", "--peer-urls="],
      ["member", "add", "a", "--peer-urls=http://127.0.0.1:1", "-w", "bogus"],
      ["member", "remove"],
      ["member", "remove", "1", "2"],
      ["member", "update", "1"],
      ["member", "update", "zz", "--peer-urls=http://127.0.0.1:1"],
      ["member", "promote"],
      ...bad.flatMap((a) => [
        ["member", "remove", "--", a],
        ["member", "promote", "--", a],
      ]),
    ];
    for (const args of cases) await expectSameOutput([...ep(), ...args]);
  }, 30_000);

  test("peer URLs are checked like clientv3 (types.NewURLs)", async () => {
    const urls = [
      "foo",
      "127.0.0.1:2380",
      "localhost:2380",
      "http://127.0.0.1",
      "http://127.0.0.1:1/x",
      "http://[::1",
      "http://127.0.0.1:1,",
      "ftp://127.0.0.1:1",
      "http://a b:1",
      "http://%zz:1",
      "http://u^@127.0.0.1:1",
      "http://127.0.0.1:x",
      "unix://foo",
      "http:127.0.0.1:1",
    ];
    for (const url of urls) await expectSameOutput([...ep(), "member", "add", "a", `--peer-urls=${url}`, "--learner"]);
    await expectSameOutput([...ep(), "member", "update", id("m2"), "--peer-urls=http://127.0.0.1:1/p"]);
  }, 30_000);

  test("server refusals", async () => {
    await expectSameOutput([...ep(), "member", "remove", "1"]);
    await expectSameOutput([...ep(), "member", "update", "1", `--peer-urls=${await unusedPeerUrl()}`]);
    await expectSameOutput([...ep(), "member", "update", id("m1"), `--peer-urls=${cluster.peerUrls[1]}`]);
    await expectSameOutput([...ep(), "member", "promote", "1"]);
    await expectSameOutput([...ep(), "member", "promote", id("m1")]);
  }, 30_000);

  test("member update and member list in every format", async () => {
    for (const format of ["simple", "json", "fields", "table", "protobuf"]) {
      await expectSameOutput([...ep(), "member", "update", id("m2"), `--peer-urls=${cluster.peerUrls[1]}`, "-w", format]);
      await expectSameOutput([...ep(), "member", "list", "-w", format]);
    }
    const go = await expectSameOutput([...ep(), "member", "update", id("m2"), `--peer-urls=${cluster.peerUrls[1]}`]);
    expect(text(go)).toMatch(/^Member [0-9a-f ]{16} updated in cluster [0-9a-f ]{16}\n$/);
  }, 30_000);

  test("member add and remove in every format (new IDs masked)", async () => {
    await settled(5500);
    const rounds: { format: string; learner: boolean }[] = [
      ...["simple", "json", "protobuf", "fields", "table"].map((format) => ({ format, learner: true })),
      { format: "simple", learner: false },
    ];
    for (const { format, learner } of rounds) {
      type Shown = { format: string; learner: boolean; stdout: string; stderr: string; code: number };
      const seen: Record<string, { add: Shown; remove: Shown }> = {};
      for (const [who, cmd] of [
        ["go", GO_ETCDCTL],
        ["ours", OUR_ETCDCTL],
      ] as const) {
        const url = await unusedPeerUrl();
        const flags = [`--peer-urls=${url}`, ...(learner ? ["--learner"] : []), "-w", format];
        const add = await ctl(cmd, [...ep(), "member", "add", "new", ...flags]);
        const newHex = (await idByPeerUrl(url))!;
        expect(newHex).toBeDefined();
        if (learner && who === "go") {
          // A second learner is refused while this one exists.
          await expectSameOutput([...ep(), "member", "add", "other", `--peer-urls=${await unusedPeerUrl()}`, "--learner"]);
        }
        const remove = await ctl(cmd, [...ep(), "member", "remove", newHex, "-w", format]);
        expect(await idByPeerUrl(url)).toBeUndefined();
        // Byte-exact (latin1) but for the removed member's ID.
        const removed = Buffer.from(remove.stdout).toString("latin1").replaceAll(newHex.padStart(16, " "), "<id>");
        seen[who] = {
          add: { format, learner, stdout: maskedAdd(format, add, newHex, url), stderr: add.stderr, code: add.code },
          remove: { format, learner, stdout: removed, stderr: remove.stderr, code: remove.code },
        };
      }
      expect(seen.ours).toEqual(seen.go!);
      if (format === "simple") {
        expect(seen.go!.add.stdout).toMatch(/^Member <id> added to cluster [0-9a-f ]{16}\n\nETCD_NAME="new"\n/);
        expect(seen.go!.add.stdout).toEndWith('\nETCD_INITIAL_ADVERTISE_PEER_URLS="<url>"\nETCD_INITIAL_CLUSTER_STATE="existing"\n');
      }
    }
    // A peer URL that a member already has.
    await expectSameOutput([...ep(), "member", "add", "dup", `--peer-urls=${cluster.peerUrls[2]}`, "--learner"]);
  }, 60_000);
});

describe("member promote of a started learner (Go etcdctl vs ours)", () => {
  /**
   * Adds a learner (with Go's etcdctl), starts it, waits until it has caught up, then promotes it
   * with `cmd`; finally removes it again and stops its process.
   */
  async function promoteLearner(cmd: string[], format: string): Promise<{ run: CtlRun; hex: string }> {
    const place = await placeEtcd("learner");
    const url = `http://127.0.0.1:${place.peerPort}`;
    const add = text(await ctl(GO_ETCDCTL, [...ep(), "member", "add", place.name, `--peer-urls=${url}`, "--learner"]));
    const hex = add.match(/^Member +([0-9a-f]+) added/)![1]!;
    const initialCluster = add.match(/^ETCD_INITIAL_CLUSTER="(.*)"$/m)![1]!;
    const learner = await cluster.join(place, initialCluster);
    try {
      await caughtUp(learner.endpoint);
      const run = await ctl(cmd, [...ep(), "member", "promote", hex, "-w", format]);
      return { run, hex };
    } finally {
      await ctl(GO_ETCDCTL, [...ep(), "member", "remove", hex]);
      await learner.stop(true);
    }
  }

  /** Polls until the member at `endpoint` has applied everything the first member has committed. */
  async function caughtUp(endpoint: string): Promise<void> {
    const fields = async (e: string) => text(await ctl(GO_ETCDCTL, ["--endpoints", e, "endpoint", "status", "-w", "fields"]));
    const index = (s: string, name: string) => Number(s.match(new RegExp(`"${name}" : (\\d+)`))?.[1] ?? -1);
    for (let i = 0; i < 100; i++) {
      const [learner, leader] = await Promise.all([fields(endpoint), fields(cluster.endpoints[0]!)]);
      if (index(learner, "RaftAppliedIndex") >= index(leader, "RaftIndex")) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`learner at ${endpoint} did not catch up`);
  }

  test("a learner that is in sync is promoted; other formats panic after promoting, as etcdctl 3.4 does", async () => {
    await settled(5500);
    for (const format of ["simple", "json"]) {
      const go = await promoteLearner(GO_ETCDCTL, format);
      const ours = await promoteLearner(OUR_ETCDCTL, format);
      const mask = (r: { run: CtlRun; hex: string }) => ({
        stdout: text(r.run).replaceAll(r.hex.padStart(16, " "), "<id>"),
        // Go's panic goes on with a goroutine dump: compare the panic line.
        stderr: r.run.stderr.split("\n")[0],
        code: r.run.code,
      });
      expect({ format, ...mask(ours) }).toEqual({ format, ...mask(go) });
    }
  }, 60_000);
});

describe("endpoint status|health --cluster and member list under Deno", () => {
  const DURATION = /\d+(\.\d+)?(ns|µs|ms|s)\b/g;
  const DB_SIZE = /"dbSize":\d+|"DBSize" : \d+|\b\d+(\.\d)? [kMG]?B\b/g;
  /**
   * Elapsed times and bbolt's file size vary between runs; table widths with them. `endpoint
   * health` lists endpoints in completion order: lines and JSON array items are sorted.
   */
  const varying = (s: string) =>
    s
      .replace(/^\[\{|\},\{|\}\]$/gm, (m) => m.split(",").join("\n").replace("[{", "[\n{").replace("}]", "}\n]"))
      .replace(DURATION, "<took>")
      .replace(DB_SIZE, "<size>")
      .replace(/-+/g, "-")
      .replace(/ +/g, " ")
      .split("\n")
      .sort()
      .join("\n");

  test("every member's client URL is reached, in every format", async () => {
    const all = ["--endpoints", cluster.endpoints.join(",")];
    for (const [cmd, format] of [
      ["status", "simple"],
      ["status", "table"],
      ["status", "json"],
      ["status", "fields"],
      ["health", "simple"],
      ["health", "table"],
      ["health", "json"],
      ["health", "fields"],
    ] as const) {
      const args = [...all, "endpoint", cmd!, "--cluster", "-w", format!];
      const go = await ctl(GO_ETCDCTL, args);
      const ours = await ctl(OUR_ETCDCTL, args);
      const shown = (r: CtlRun) => ({ args, stdout: varying(text(r)), stderr: varying(r.stderr), code: r.code });
      expect(shown(ours)).toEqual(shown(go));
      for (const e of cluster.endpoints) expect(text(go) + go.stderr).toContain(`http://${e}`);
    }
  }, 30_000);

  test("member list under Deno", async () => {
    const args = [...ep(), "member", "list", "-w", "table"];
    const go = await ctl(GO_ETCDCTL, args);
    const ours = await ctl(OUR_ETCDCTL_DENO, args);
    expect({ stdout: text(ours), stderr: ours.stderr, code: ours.code }).toEqual({ stdout: text(go), stderr: go.stderr, code: 0 });
    expect(text(go).split("\n").length).toBe(3 + 4 + 1);
  }, 30_000);
});
