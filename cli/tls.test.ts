/**
 * TLS client flags (`--cacert --cert --key --insecure-skip-tls-verify --insecure-transport`, their
 * `ETCDCTL_*` variables, `https://` endpoints): our etcdctl against Go's etcdctl 3.4.23 on a real
 * etcd 3.4.23 serving clients over mutual TLS (`--cert-file --key-file --trusted-ca-file
 * --client-cert-auth`), certificates made with openssl (`testing/certs.ts`).
 *
 * The script runs twice (Go's etcdctl, then ours under Bun and, for marked cases, Deno, each on a
 * fresh etcd on the same ports) and every invocation must print the same bytes with the same exit
 * code: put/get in several formats, scheme-less endpoints, `localhost`, verification skipped,
 * refused handshakes (no client certificate, unknown CA: `context deadline exceeded`), flag and
 * file errors (exit 128), TLS with `--user`, and etcd's common-name authentication. A watch over
 * mTLS must report a put like Go's (Bun and Deno). `CLI_TEST_ETCD_BIN=<etcd executable>` runs our
 * etcdctl's half on another server (e.g. our own); `CLI_TEST_CTL=go` uses Go's etcdctl there too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeTestCerts, type TestCerts } from "./testing/certs.ts";
import { GO_ETCDCTL, OUR_ETCDCTL, OUR_ETCDCTL_DENO } from "./testing/etcd-cluster.ts";
import {
  cleanEnv,
  ETCD_UNDER_TEST,
  freePort,
  placeEtcd,
  runProcess,
  startEtcd,
  type EtcdProcess,
  type RunResult,
} from "./testing/etcd-process.ts";
import { caseName, comparable, runScript, secondRunCtl, type ScriptCase as Case } from "./testing/script.ts";
import { watchUntil } from "./testing/watch-event.ts";

const CA = "{CERTS}/ca.pem";
const MTLS = ["--cacert", CA, "--cert", "{CERTS}/client.pem", "--key", "{CERTS}/client-key.pem"];
const HTTPS = ["--endpoints", "https://{EP}"];
const FAST = ["--command-timeout", "700ms"];

/** The script, in order. `--endpoints {EP}` (no scheme) unless a case names its own. */
const CASES: Case[] = [
  { args: [...HTTPS, ...MTLS, "put", "foo", "bar"], noEndpoints: true },
  { args: [...HTTPS, ...MTLS, "get", "foo", "-w", "json"], noEndpoints: true },
  { args: [...HTTPS, ...MTLS, "get", "foo", "-w", "fields"], noEndpoints: true },
  { args: [...MTLS, "put", "k2", "v2", "-w", "protobuf"] },
  { args: [...MTLS, "get", "", "--prefix"] },
  { args: ["--endpoints", "https://localhost:{PORT}", ...MTLS, "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--insecure-skip-tls-verify", "--cert", "{CERTS}/client.pem", "--key", "{CERTS}/client-key.pem", "get", "foo"], noEndpoints: true },
  { args: [...MTLS, "--insecure-transport=false", "get", "foo"] },
  { args: ["get", "foo"], env: { ETCDCTL_CACERT: CA, ETCDCTL_CERT: "{CERTS}/client.pem", ETCDCTL_KEY: "{CERTS}/client-key.pem" } },
  { args: [...MTLS, "member", "list", "-w", "table"] },
  { args: [...MTLS, "endpoint", "status", "-w", "protobuf"] },
  { args: [...MTLS, "endpoint", "health", "-w", "json"] },
  { args: [...MTLS, "endpoint", "health", "--cluster", "-w", "json"] },
  { args: [...HTTPS, ...FAST, "--cacert", CA, "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, ...FAST, "--cacert", CA, "get", "foo"], noEndpoints: true, deno: true },
  { args: [...HTTPS, ...FAST, "--cacert", "{CERTS}/other-ca.pem", "--cert", "{CERTS}/client.pem", "--key", "{CERTS}/client-key.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, ...FAST, "--cert", "{CERTS}/client.pem", "--key", "{CERTS}/client-key.pem", "get", "foo"], noEndpoints: true },
  { args: [...FAST, "get", "foo"] },
  { args: [...HTTPS, "--cert", "{CERTS}/client.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--key", "{CERTS}/client-key.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cert", "/nonexistent.pem", "--key", "{CERTS}/client-key.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cacert", "/nonexistent-ca.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cert=", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--key", "", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cacert=", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cacert", CA, "--cert", "{CERTS}/client.pem", "--key", "{CERTS}/server-key.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cacert", CA, "--cert", "{CERTS}/client-key.pem", "--key", "{CERTS}/client.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cacert", CA, "--cert", "{CERTS}/client.pem", "--key", "{CERTS}/client.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, "--cacert", CA, "--cert", "{CERTS}/client.ext", "--key", "{CERTS}/client-key.pem", "get", "foo"], noEndpoints: true },
  { args: [...HTTPS, ...MTLS, "put", "deno", "über", "-w", "json"], noEndpoints: true, deno: true },
  { args: [...MTLS, "get", "deno"], deno: true },
  { args: [...HTTPS, ...FAST, "--cacert", "{CERTS}/other-ca.pem", "--cert", "{CERTS}/client.pem", "--key", "{CERTS}/client-key.pem", "get", "foo"], noEndpoints: true, deno: true },
  // Authentication over TLS; then etcd's common-name authentication (a client certificate for CN `root`).
  { args: [...MTLS, "user", "add", "root:rootpw"] },
  { args: [...MTLS, "auth", "enable"] },
  { args: [...MTLS, "get", "foo"] },
  { args: [...MTLS, "--user", "root:rootpw", "get", "foo"] },
  { args: [...MTLS, "--user", "root:nope", "get", "foo"] },
  { args: ["--cacert", CA, "--cert", "{CERTS}/root-client.pem", "--key", "{CERTS}/root-client-key.pem", "user", "list"] },
  { args: ["--cacert", CA, "--cert", "{CERTS}/root-client.pem", "--key", "{CERTS}/root-client-key.pem", "user", "get", "root", "-w", "json"] },
  { args: ["--cacert", CA, "--cert", "{CERTS}/root-client.pem", "--key", "{CERTS}/root-client-key.pem", "get", "foo"], deno: true },
  { args: [...MTLS, "--user", "root:rootpw", "auth", "disable"], deno: true },
];

let certs: TestCerts;
let real: RunResult[] = [];
let ours: RunResult[] = [];
let etcd: EtcdProcess | undefined;

beforeAll(async () => {
  certs = makeTestCerts();
  certs.issue("root-client", "root");
  const tls = { ca: certs.ca, cert: certs.server.cert, key: certs.server.key, clientCertAuth: true };
  const placement = await placeEtcd("tls-test");
  const values = { EP: `127.0.0.1:${placement.clientPort}`, DEAD: `127.0.0.1:${await freePort()}`, CERTS: certs.dir };
  const cases = CASES.map((c) => ({ ...c, args: c.args.map((a) => a.replaceAll("{PORT}", String(placement.clientPort))) }));
  const realEtcd = await startEtcd(placement, 15000, tls);
  try {
    real = await runScript(cases, () => GO_ETCDCTL, values);
  } finally {
    await realEtcd.stop();
  }
  etcd = await startEtcd(placement, 15000, tls, ETCD_UNDER_TEST);
  ours = await runScript(cases, secondRunCtl, values);
}, 180_000);

afterAll(async () => {
  await etcd?.stop();
  certs?.remove();
});

describe("TLS flags as etcdctl 3.4 (real etcd 3.4 with --client-cert-auth)", () => {
  CASES.forEach((c, i) => {
    test(caseName(c), () => {
      expect(comparable(ours[i]!)).toEqual(comparable(real[i]!));
    });
  });
});

/** `watch <key> --prefix` over mTLS with `cmd` until a put of `<key>/1` (by Go's etcdctl) shows. */
function watchOnce(cmd: string[], key: string): Promise<string> {
  const mtls = ["--cacert", certs.ca, "--cert", certs.client.cert, "--key", certs.client.key];
  const ep = ["--endpoints", `https://${etcd!.endpoint}`];
  const put = () => runProcess(GO_ETCDCTL, [...ep, ...mtls, "put", `${key}/1`, "v"], "", cleanEnv());
  return watchUntil(cmd, [...ep, ...mtls, "watch", key, "--prefix"], put, `PUT\n${key}/1\nv\n`);
}

describe("watch over mutual TLS", () => {
  test("Go etcdctl and ours (Bun) print the same event", async () => {
    const go = await watchOnce(GO_ETCDCTL, "wgo");
    const bun = await watchOnce(OUR_ETCDCTL, "wbun");
    expect(go).toBe("PUT\nwgo/1\nv\n");
    expect(bun).toBe("PUT\nwbun/1\nv\n");
  }, 40_000);

  test("ours under Deno prints the event", async () => {
    expect(await watchOnce(OUR_ETCDCTL_DENO, "wdeno")).toBe("PUT\nwdeno/1\nv\n");
  }, 40_000);
});
