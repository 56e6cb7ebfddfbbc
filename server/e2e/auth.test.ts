/**
 * Authentication and RBAC end to end: the Go etcdctl 3.4 drives the server under test and, with
 * the very same commands, a real etcd 3.4 started beside it (`E2E_REFERENCE_ETCD_BIN`, default
 * `/usr/bin/etcd`); every step must print the same (exit code, stdout, the `Error:` lines of
 * stderr; endpoints and IDs masked). Key answers are also pinned as literal texts read off etcd
 * 3.4.23, so the test fails even if both servers went wrong the same way. Covers users, roles,
 * permissions on keys, ranges, prefixes and from-key, txn compares, watch, lease revoke, member
 * and maintenance calls as non-root, root rules, wrong passwords, password changes (old tokens
 * refused), auth disable, restart; then the `etcd3` npm client with a user and password.
 * Passes with E2E_ETCD_BIN=/usr/bin/etcd (then both servers are etcd).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createClient, ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Etcd3 } from "etcd3";
import { Auth, KV } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { bytes, callOutcome } from "./clients.ts";
import { cleanup, type EtcdProcess, goEtcdctl, IS_REAL_ETCD, type RunOptions, type RunResult, startEtcd } from "./harness.ts";

setDefaultTimeout(120_000);

const REFERENCE_BIN = process.env.E2E_REFERENCE_ETCD_BIN ?? "/usr/bin/etcd";

let ours: EtcdProcess;
let ref: EtcdProcess;

beforeAll(async () => {
  [ours, ref] = await Promise.all([startEtcd({ name: "auth" }), startEtcd({ name: "auth", bin: REFERENCE_BIN })]);
});
afterAll(cleanup);

/** What a step printed, comparable across servers. */
interface Printed {
  code: number | null;
  stdout: string;
  errors: string[];
}

/** Masks what differs between two servers: endpoints, hex member and lease IDs (12-16 digits). */
function mask(text: string, p: EtcdProcess): string {
  return text
    .replaceAll(`127.0.0.1:${p.clientPort}`, "<client>")
    .replaceAll(`127.0.0.1:${p.peerPort}`, "<peer>")
    .replace(/\b[0-9a-f]{12,16}\b/g, "<id>");
}

function printed(r: RunResult, p: EtcdProcess): Printed {
  // clientv3's zap warnings (timestamps, random target names) are not part of the answer.
  const errors = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("{"));
  return { code: r.code, stdout: mask(r.stdout, p), errors: errors.map((l) => mask(l, p)) };
}

/** Runs Go etcdctl with `args` against both servers; both must print the same. Returns ours. */
async function both(args: string[], opts: RunOptions = {}): Promise<Printed> {
  const [a, b] = await Promise.all([goEtcdctl(ours.endpoint, args, opts), goEtcdctl(ref.endpoint, args, opts)]);
  const got = printed(a, ours);
  expect({ args, ...got }).toEqual({ args, ...printed(b, ref) });
  return got;
}

const ok = (stdout: string): Printed => ({ code: 0, stdout, errors: [] });
const fails = (error: string): Printed => ({ code: 1, stdout: "", errors: [`Error: ${error}`] });

/** Connect gRPC clients of one server (no retries, exact codes and messages). */
function clients(p: EtcdProcess) {
  const transport = createGrpcTransport({ baseUrl: p.endpoint });
  return { auth: createClient(Auth, transport), kv: createClient(KV, transport) };
}

const ROOT = ["--user", "root:rootpw"];
const ALICE = ["--user", "alice:alicepw"];

describe("users, roles and permissions (Go etcdctl, ours vs etcd 3.4)", () => {
  test("auth enable without root", async () => {
    expect(await both(["auth", "enable"])).toEqual(fails("etcdserver: root user does not exist"));
  });

  test("users and roles are created and listed", async () => {
    expect(await both(["user", "add", "root:rootpw"])).toEqual(ok("User root created\n"));
    expect(await both(["user", "add", "alice:alicepw"])).toEqual(ok("User alice created\n"));
    expect(await both(["user", "add", "alice:again"])).toEqual(fails("etcdserver: user name already exists"));
    expect(await both(["role", "add", "reader"])).toEqual(ok("Role reader created\n"));
    expect(await both(["role", "add", "writer"])).toEqual(ok("Role writer created\n"));
    expect(await both(["role", "add", "reader"])).toEqual(fails("etcdserver: role name already exists"));
    await both(["role", "grant-permission", "reader", "read", "k1"]);
    await both(["role", "grant-permission", "reader", "read", "--prefix", "p/"]);
    await both(["role", "grant-permission", "writer", "readwrite", "r1", "r5"]);
    await both(["role", "grant-permission", "writer", "write", "--from-key", "z"]);
    await both(["role", "grant-permission", "nobody", "read", "x"]);
    expect(await both(["user", "grant-role", "alice", "reader"])).toEqual(ok("Role reader is granted to user alice\n"));
    await both(["user", "grant-role", "alice", "writer"]);
    await both(["user", "grant-role", "alice", "nope"]);
    await both(["user", "grant-role", "bob", "reader"]);
    expect(await both(["role", "get", "reader"])).toEqual(
      ok("Role reader\nKV Read:\n\tk1\n\t[p/, p0) (prefix p/)\nKV Write:\n"),
    );
    await both(["role", "get", "writer"]);
    expect(await both(["user", "get", "alice"])).toEqual(ok("User: alice\nRoles: reader writer\n"));
    await both(["user", "list"]);
    await both(["role", "list"]);
    await both(["role", "revoke-permission", "reader", "nothing"]);
    await both(["user", "revoke-role", "alice", "nope"]);
  });

  test("auth enable, then requests need credentials", async () => {
    expect(await both(["auth", "enable"])).toEqual(ok("Authentication Enabled\n"));
    expect(await both(["put", "k1", "v"])).toEqual(fails("etcdserver: user name is empty"));
    expect(await both(["get", "k1"])).toEqual(fails("etcdserver: user name is empty"));
    for (const [k, v] of [["k1", "v1"], ["p/a", "1"], ["r2", "x"], ["secret", "s"], ["zz", "z"]]) {
      expect(await both([...ROOT, "put", k!, v!])).toEqual(ok("OK\n"));
    }
    await both([...ROOT, "role", "list"]);
    await both([...ROOT, "user", "list"]);
  });

  test("wrong password and unknown user", async () => {
    // etcdctl exits 2 (ExitBadConnection) when it cannot authenticate.
    expect(await both(["--user", "alice:wrong", "get", "k1"])).toEqual({
      ...fails("etcdserver: authentication failed, invalid user ID or password"),
      code: 2,
    });
    await both(["--user", "mallory:x", "get", "k1"]);
    // An empty password is a password like any other (Go's bcrypt hashes it).
    expect(await both([...ROOT, "user", "add", "emma:"])).toEqual(ok("User emma created\n"));
    // clientv3 does not authenticate with an empty password: the request has no credentials.
    expect(await both(["--user", "emma:", "get", "k1"])).toEqual(fails("etcdserver: user name is empty"));
    await both(["--user", "emma:x", "get", "k1"]);
    const [a, b] = await Promise.all([ours, ref].map((p) => clients(p).auth.authenticate({ name: "emma", password: "" }).then((r) => r.token.length > 0)));
    expect([a, b]).toEqual([true, true]);
    await both([...ROOT, "user", "delete", "emma"]);
    // A user without password (for client-certificate auth) cannot authenticate with one.
    expect(await both([...ROOT, "user", "add", "certonly", "--no-password"])).toEqual(ok("User certonly created\n"));
    await both(["--user", "certonly:x", "get", "k1"]);
    await both([...ROOT, "user", "get", "certonly"]);
    await both([...ROOT, "user", "delete", "certonly"]);
  });

  test("single key, prefix, range and from-key permissions", async () => {
    expect(await both([...ALICE, "get", "k1"])).toEqual(ok("k1\nv1\n"));
    expect(await both([...ALICE, "get", "secret"])).toEqual(fails("etcdserver: permission denied"));
    expect(await both([...ALICE, "put", "k1", "x"])).toEqual(fails("etcdserver: permission denied"));
    expect(await both([...ALICE, "get", "--prefix", "p/"])).toEqual(ok("p/a\n1\n"));
    await both([...ALICE, "get", "--prefix", "p"]);
    await both([...ALICE, "put", "r3", "y"]);
    await both([...ALICE, "get", "r1", "r5"]);
    await both([...ALICE, "get", "r1", "r6"]);
    await both([...ALICE, "put", "r5", "no"]);
    await both([...ALICE, "put", "zzz", "w"]);
    await both([...ALICE, "get", "zzz"]);
    await both([...ALICE, "get", "--from-key", "z"]);
    await both([...ALICE, "del", "zzz"]);
    await both([...ALICE, "del", "--prev-kv", "zz"]);
    await both([...ALICE, "put", "--prev-kv", "r4", "v"]);
    await both([...ALICE, "del", "--prefix", "r"]);
  });

  test("txn: every compare and op is checked", async () => {
    const txn = (stdin: string) => both([...ALICE, "txn", "-i"], { stdin });
    const prompts = "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n";
    expect(await txn(`value("secret") = "s"\n\nget k1\n\nget k1\n\n`)).toEqual({
      ...fails("etcdserver: permission denied"),
      stdout: prompts,
    });
    expect(await txn(`value("k1") = "v1"\n\nput r2 y\n\nget k1\n\n`)).toEqual(ok(`${prompts}SUCCESS\n\nOK\n`));
    await txn(`value("k1") = "v1"\n\nget secret\n\n\n`);
    await txn(`value("k1") = "nope"\n\nget k1\n\nput secret x\n\n`);
    await txn(`value("k1") = "v1"\n\nget k1\n\n\n`);
    await txn(`\ndel --prev-kv r2\n\n\n`);
    await txn(`\nget r1 r5\nget --prefix p/\n\n\n`);
  });

  test("watch without permission is canceled", async () => {
    const r = await both([...ALICE, "watch", "secret"], { timeoutMs: 10_000 });
    expect(r.code).not.toBe(0);
    await both([...ALICE, "watch", "--prefix", "q"], { timeoutMs: 10_000 });
  });

  test("watch with permission sees the events", async () => {
    // etcdctl watch runs until killed: stop it after root's put reached it.
    const watching = Promise.all([ours, ref].map((p) => goEtcdctl(p.endpoint, [...ALICE, "watch", "k1"], { timeoutMs: 4_000 })));
    await Bun.sleep(1_500);
    await both([...ROOT, "put", "k1", "v1"]);
    const [a, b] = await watching;
    expect(a!.stdout).toBe("PUT\nk1\nv1\n");
    expect(b!.stdout).toBe(a!.stdout);
  });

  test("lease revoke needs WRITE on every attached key", async () => {
    const grant = async (p: EtcdProcess, user: string[]) => {
      const r = await goEtcdctl(p.endpoint, [...user, "lease", "grant", "600"]);
      return /lease ([0-9a-f]+) granted/.exec(r.stdout)![1]!;
    };
    const [lo, lr] = await Promise.all([grant(ours, ROOT), grant(ref, ROOT)]);
    await Promise.all([
      goEtcdctl(ours.endpoint, [...ROOT, "put", "secret2", "s", "--lease", lo]),
      goEtcdctl(ref.endpoint, [...ROOT, "put", "secret2", "s", "--lease", lr]),
    ]);
    const [a, b] = await Promise.all([
      goEtcdctl(ours.endpoint, [...ALICE, "lease", "revoke", lo]),
      goEtcdctl(ref.endpoint, [...ALICE, "lease", "revoke", lr]),
    ]);
    expect(printed(a, ours)).toEqual(printed(b, ref));
    expect(printed(a, ours)).toEqual(fails("failed to revoke lease (etcdserver: permission denied)"));
    // A lease whose keys alice may write: revoked, and its key goes with it.
    const [ao, ar] = await Promise.all([grant(ours, ALICE), grant(ref, ALICE)]);
    await Promise.all([
      goEtcdctl(ours.endpoint, [...ALICE, "put", "r4", "v", "--lease", ao]),
      goEtcdctl(ref.endpoint, [...ALICE, "put", "r4", "v", "--lease", ar]),
    ]);
    const [c, d] = await Promise.all([
      goEtcdctl(ours.endpoint, [...ALICE, "lease", "revoke", ao]),
      goEtcdctl(ref.endpoint, [...ALICE, "lease", "revoke", ar]),
    ]);
    expect(printed(c, ours)).toEqual(printed(d, ref));
    expect(printed(c, ours).stdout).toBe("lease <id> revoked\n");
    expect(await both([...ALICE, "get", "r4"])).toEqual(ok(""));
  });

  test("an expired lease deletes its keys while auth is enabled (the leader revokes as root)", async () => {
    const grant = async (p: EtcdProcess) => /lease ([0-9a-f]+) granted/.exec((await goEtcdctl(p.endpoint, [...ROOT, "lease", "grant", "2"])).stdout)![1]!;
    const [lo, lr] = await Promise.all([grant(ours), grant(ref)]);
    await Promise.all([
      goEtcdctl(ours.endpoint, [...ROOT, "put", "secret3", "s", "--lease", lo]),
      goEtcdctl(ref.endpoint, [...ROOT, "put", "secret3", "s", "--lease", lr]),
    ]);
    expect(await both([...ROOT, "get", "secret3", "--print-value-only"])).toEqual(ok("s\n"));
    // Expiry timing differs between the servers: wait on each by itself.
    const waitGone = async (p: EtcdProcess) => {
      for (let i = 0; i < 40; i++) {
        await Bun.sleep(250);
        const r = await goEtcdctl(p.endpoint, [...ROOT, "get", "secret3"]);
        if (r.code === 0 && r.stdout === "") return "gone";
      }
      return "still there";
    };
    expect(await Promise.all([waitGone(ours), waitGone(ref)])).toEqual(["gone", "gone"]);
  });

  test("member and maintenance calls are for root", async () => {
    await both([...ALICE, "member", "list"]);
    expect(await both([...ALICE, "member", "add", "m2", "--peer-urls=http://127.0.0.1:1"])).toEqual(
      fails("etcdserver: permission denied"),
    );
    await both([...ALICE, "member", "remove", "1234"]);
    await both([...ALICE, "member", "update", "1234", "--peer-urls=http://127.0.0.1:2"]);
    await both([...ALICE, "member", "promote", "1234"]);
    // etcd's maintenance server returns the auth store's own error: Unknown "auth: permission denied".
    expect(await both([...ALICE, "defrag"])).toEqual({
      code: 1,
      stdout: "",
      errors: ["Failed to defragment etcd member[http://<client>] (rpc error: code = Unknown desc = auth: permission denied)"],
    });
    await both(["defrag"]);
    await both([...ROOT, "defrag"]);
    // HashKV is for root too; alarms are not checked.
    const hashkv = await both([...ALICE, "endpoint", "hashkv"]);
    expect(hashkv.code).toBe(1);
    expect(hashkv.errors[0]).toBe("Failed to get the hash of endpoint http://<client> (rpc error: code = Unknown desc = auth: permission denied)");
    expect(await both([...ALICE, "alarm", "list"])).toEqual(ok(""));
    // endpoint health reads key "health": permission denied still counts as healthy (etcdctl 3.4).
    const took = (p: Printed) => ({ ...p, stdout: p.stdout.replace(/took = \S+/, "took = <t>"), errors: p.errors.map((e) => e.replace(/took = \S+/, "took = <t>")) });
    const health = async (args: string[]) => {
      const [a, b] = await Promise.all([goEtcdctl(ours.endpoint, args), goEtcdctl(ref.endpoint, args)]);
      expect(took(printed(a, ours))).toEqual(took(printed(b, ref)));
      return took(printed(a, ours));
    };
    expect(await health([...ALICE, "endpoint", "health"])).toEqual({
      code: 0,
      stdout: "",
      errors: ["http://<client> is healthy: successfully committed proposal: took = <t>"],
    });
    await health(["endpoint", "health"]);
    // Status is open to every user (sizes and indexes differ between the servers).
    const [so, sr] = await Promise.all([goEtcdctl(ours.endpoint, [...ALICE, "endpoint", "status"]), goEtcdctl(ref.endpoint, [...ALICE, "endpoint", "status"])]);
    expect([so.code, sr.code]).toEqual([0, 0]);
  });

  test("auth administration is for root; root rules", async () => {
    expect(await both([...ALICE, "user", "list"])).toEqual(fails("etcdserver: permission denied"));
    expect(await both([...ALICE, "user", "get", "alice"])).toEqual(ok("User: alice\nRoles: reader writer\n"));
    await both([...ALICE, "role", "get", "reader"]);
    await both([...ALICE, "role", "get", "root"]);
    await both([...ALICE, "role", "add", "x"]);
    await both([...ALICE, "auth", "disable"]);
    expect(await both([...ROOT, "user", "delete", "root"])).toEqual(fails("etcdserver: invalid auth management"));
    await both([...ROOT, "user", "revoke-role", "root", "root"]);
    await both([...ROOT, "role", "delete", "root"]);
    await both([...ROOT, "role", "revoke-permission", "writer", "--from-key", "z"]);
    await both([...ALICE, "put", "zzz", "w"]);
  });

  test("password change: old password refused, new one works", async () => {
    expect(await both([...ROOT, "user", "passwd", "alice", "--interactive=false"], { stdin: "newpw\n" })).toEqual(
      ok("Password updated\n"),
    );
    await both([...ALICE, "get", "k1"]);
    expect(await both(["--user", "alice:newpw", "get", "k1"])).toEqual(ok("k1\nv1\n"));
  });
});

describe("tokens over gRPC (ours vs etcd 3.4)", () => {

  test("a token stops working after its user's password changes; garbage tokens are refused", async () => {
    const results = await Promise.all(
      [ours, ref].map(async (p) => {
        const c = clients(p);
        const { token } = await c.auth.authenticate({ name: "alice", password: "newpw" });
        const rootToken = (await c.auth.authenticate({ name: "root", password: "rootpw" })).token;
        const asAlice = { headers: { token } };
        const before = await callOutcome(() => c.kv.range({ key: bytes("k1") }, asAlice));
        const garbage = await callOutcome(() => c.kv.range({ key: bytes("k1") }, { headers: { token: "nonsense" } }));
        await c.auth.userChangePassword({ name: "alice", password: "alicepw" }, { headers: { token: rootToken } });
        const after = await callOutcome(() => c.kv.range({ key: bytes("k1") }, asAlice));
        const status = await callOutcome(() => c.auth.userList({}, { headers: { token: rootToken } }));
        const wrong = await callOutcome(() => c.auth.authenticate({ name: "alice", password: "newpw" }));
        return { tokenShape: /^[a-zA-Z]{16}\.\d+$/.test(token), before, garbage, after, status, wrong };
      }),
    );
    expect(results[0]).toEqual(results[1]!);
    expect(results[0]).toEqual({
      tokenShape: true,
      before: "ok",
      garbage: "16: etcdserver: invalid auth token",
      after: "16: etcdserver: invalid auth token",
      status: "ok",
      wrong: "3: etcdserver: authentication failed, invalid user ID or password",
    });
  });
});

describe("restart and auth disable (ours vs etcd 3.4)", () => {
  test("users, roles and the enabled flag survive a restart", async () => {
    const restart = async (p: EtcdProcess) => {
      await p.stop();
      return startEtcd({ name: "auth", dataDir: p.dataDir, clientPort: p.clientPort, peerPort: p.peerPort, bin: p === ref ? REFERENCE_BIN : undefined });
    };
    [ours, ref] = await Promise.all([restart(ours), restart(ref)]);
    expect(await both(["get", "k1"])).toEqual(fails("etcdserver: user name is empty"));
    expect(await both([...ALICE, "get", "k1"])).toEqual(ok("k1\nv1\n"));
    await both([...ROOT, "user", "list"]);
    await both([...ROOT, "role", "get", "writer"]);
  });

  test("auth disable by root; then no credentials are needed", async () => {
    expect(await both([...ROOT, "auth", "disable"])).toEqual(ok("Authentication Disabled\n"));
    expect(await both(["get", "secret"])).toEqual(ok("secret\ns\n"));
    await both([...ALICE, "get", "secret"]);
    await both(["user", "list"]);
  });
});

describe("the etcd3 npm client with a user and password", () => {
  test("reads and writes what the user may, is refused the rest", async () => {
    // Auth on again (root exists with the root role), alice may read k1 and p/.
    expect(await both(["auth", "enable"])).toEqual(ok("Authentication Enabled\n"));
    const results = await Promise.all(
      [ours, ref].map(async (p) => {
        const client = new Etcd3({ hosts: p.endpoint, auth: { username: "alice", password: "alicepw" } });
        try {
          const k1 = await client.get("k1").string();
          const prefix = await client.getAll().prefix("p/").strings();
          const denied = await client
            .get("secret")
            .string()
            .then(() => "ok", (e: Error) => e.message);
          const put = await client
            .put("r2")
            .value("from-etcd3")
            .then(() => "ok", (e: Error) => e.message);
          const r2 = await client.get("r2").string();
          return { k1, prefix, denied, put, r2 };
        } finally {
          client.close();
        }
      }),
    );
    expect(results[0]).toEqual(results[1]!);
    expect(results[0]).toEqual({
      k1: "v1",
      prefix: { "p/a": "1" },
      denied: "7 PERMISSION_DENIED: etcdserver: permission denied",
      put: "ok",
      r2: "from-etcd3",
    });
  });
});

describe("JSON gateway /v3/auth/* and the Authorization header (ours vs etcd 3.4)", () => {
  /** POSTs `body` to `path` on a server; status and JSON body with header and token masked. */
  const post = async (p: EtcdProcess, path: string, body: unknown, token?: string) => {
    const res = await fetch(`${p.endpoint}${path}`, {
      method: "POST",
      headers: token ? { Authorization: token } : {},
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (json.header) json.header = "<header>";
    if (typeof json.token === "string") json.token = json.token === "" ? "" : "<token>";
    return { status: res.status, json };
  };
  /** The same call on both servers (`token(p)` picks the server's own token); both must answer alike. */
  const bothGw = async (path: string, body: unknown, token?: (p: EtcdProcess) => string) => {
    const [a, b] = await Promise.all([post(ours, path, body, token?.(ours)), post(ref, path, body, token?.(ref))]);
    expect({ path, ...a }).toEqual({ path, ...b });
    return a;
  };

  test("authenticate, then requests with the token in Authorization", async () => {
    const tokens = new Map<EtcdProcess, string>();
    for (const p of [ours, ref]) {
      const res = await fetch(`${p.endpoint}/v3/auth/authenticate`, { method: "POST", body: JSON.stringify({ name: "root", password: "rootpw" }) });
      tokens.set(p, ((await res.json()) as { token: string }).token);
    }
    const root = (p: EtcdProcess) => tokens.get(p)!;
    expect(await bothGw("/v3/auth/authenticate", { name: "root", password: "bad" })).toEqual({
      status: 400,
      json: {
        error: "etcdserver: authentication failed, invalid user ID or password",
        message: "etcdserver: authentication failed, invalid user ID or password",
        code: 3,
      },
    });
    expect(await bothGw("/v3/kv/range", { key: btoa("k1") })).toEqual({
      status: 400,
      json: { error: "etcdserver: user name is empty", message: "etcdserver: user name is empty", code: 3 },
    });
    expect((await bothGw("/v3/kv/range", { key: btoa("k1") }, root)).status).toBe(200);
    expect(await bothGw("/v3/kv/range", { key: btoa("k1") }, () => "bogus")).toEqual({
      status: 401,
      json: { error: "etcdserver: invalid auth token", message: "etcdserver: invalid auth token", code: 16 },
    });
    expect(await bothGw("/v3/auth/user/list", {}, root)).toEqual({ status: 200, json: { header: "<header>", users: ["alice", "root"] } });
    await bothGw("/v3/auth/user/get", { name: "alice" }, root);
    await bothGw("/v3/auth/role/get", { role: "reader" }, root);
    await bothGw("/v3/auth/role/list", {}, root);
    await bothGw("/v3/auth/role/add", { name: "gw" }, root);
    await bothGw("/v3/auth/role/grant", { name: "gw", perm: { permType: "READWRITE", key: btoa("g/"), range_end: btoa("g0") } }, root);
    await bothGw("/v3/auth/role/get", { role: "gw" }, root);
    await bothGw("/v3/auth/role/revoke", { role: "gw", key: btoa("g/"), range_end: btoa("g0") }, root);
    await bothGw("/v3/auth/user/add", { name: "gwuser", password: "pw" }, root);
    await bothGw("/v3/auth/user/grant", { user: "gwuser", role: "gw" }, root);
    await bothGw("/v3/auth/user/revoke", { name: "gwuser", role: "gw" }, root);
    await bothGw("/v3/auth/user/changepw", { name: "gwuser", password: "pw2" }, root);
    await bothGw("/v3/auth/user/delete", { name: "gwuser" }, root);
    await bothGw("/v3/auth/role/delete", { role: "gw" }, root);
    // A watch through the gateway without permission: the first line is the canceled create.
    const firstWatchLine = async (p: EtcdProcess) => {
      const ac = new AbortController();
      const res = await fetch(`${p.endpoint}/v3/watch`, {
        method: "POST",
        headers: { Authorization: tokens.get(p)! },
        body: JSON.stringify({ create_request: { key: btoa("secret") } }),
        signal: ac.signal,
      });
      const reader = res.body!.getReader();
      let buf = "";
      while (!buf.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += new TextDecoder().decode(value);
      }
      ac.abort();
      const line = JSON.parse(buf.split("\n")[0]!) as { result: Record<string, unknown> };
      line.result.header = "<header>";
      return line;
    };
    // Root may watch anything; alice may not watch `secret`.
    const aliceTokens = new Map<EtcdProcess, string>();
    for (const p of [ours, ref]) {
      const res = await fetch(`${p.endpoint}/v3/auth/authenticate`, { method: "POST", body: JSON.stringify({ name: "alice", password: "alicepw" }) });
      aliceTokens.set(p, ((await res.json()) as { token: string }).token);
    }
    for (const p of [ours, ref]) tokens.set(p, aliceTokens.get(p)!);
    const [wo, wr] = await Promise.all([firstWatchLine(ours), firstWatchLine(ref)]);
    expect(wo).toEqual(wr);
    expect(wo.result).toMatchObject({ watch_id: "-1", created: true, canceled: true });
    for (const p of [ours, ref]) tokens.set(p, (await clients(p).auth.authenticate({ name: "root", password: "rootpw" })).token);
    await bothGw("/v3/auth/user/list", {});
    await bothGw("/v3/auth/disable", {}, root);
    await bothGw("/v3/auth/enable", {});
  });
});

describe.skipIf(IS_REAL_ETCD)("the Connect protocol carries the token in the `token` header (ours only: etcd has no Connect)", () => {
  test("Connect JSON Range with and without a token", async () => {
    const token = (await clients(ours).auth.authenticate({ name: "alice", password: "alicepw" })).token;
    const range = (headers: Record<string, string>) =>
      fetch(`${ours.endpoint}/etcdserverpb.KV/Range`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ key: btoa("k1") }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    expect(await range({ token })).toMatchObject({ status: 200, body: { kvs: [{ value: btoa("v1") }] } });
    expect(await range({})).toEqual({ status: 400, body: { code: "invalid_argument", message: "etcdserver: user name is empty" } });
    expect(await range({ token: "bogus" })).toEqual({ status: 401, body: { code: "unauthenticated", message: "etcdserver: invalid auth token" } });
  });
});

describe("--auth-token-ttl (ours vs etcd 3.4)", () => {
  test("a simple token unused for longer than its TTL is refused; using it keeps it alive", async () => {
    const [o, r] = await Promise.all([
      startEtcd({ name: "ttl", extraArgs: ["--auth-token-ttl", "2"] }),
      startEtcd({ name: "ttl", bin: REFERENCE_BIN, extraArgs: ["--auth-token-ttl", "2"] }),
    ]);
    const results = await Promise.all(
      [o, r].map(async (p) => {
        for (const args of [["user", "add", "root:rootpw"], ["auth", "enable"]]) expect((await goEtcdctl(p.endpoint, args)).code).toBe(0);
        const c = clients(p);
        const fresh = async () => ({ headers: { token: (await c.auth.authenticate({ name: "root", password: "rootpw" })).token } });
        const kept = await fresh();
        const idle = await fresh();
        const seen: string[] = [];
        // `kept` is used every 0.5 s for 4 s; `idle` only at the end.
        for (let i = 0; i < 8; i++) {
          await Bun.sleep(500);
          seen.push(await c.kv.range({ key: bytes("x") }, kept).then(() => "ok", (e) => ConnectError.from(e).rawMessage));
        }
        const idleNow = await c.kv.range({ key: bytes("x") }, idle).then(() => "ok", (e) => ConnectError.from(e).rawMessage);
        return { kept: [...new Set(seen)], idle: idleNow };
      }),
    );
    expect(results[0]).toEqual(results[1]!);
    expect(results[0]).toEqual({ kept: ["ok"], idle: "etcdserver: invalid auth token" });
    await Promise.all([o.stop(), r.stop()]);
  });
});
