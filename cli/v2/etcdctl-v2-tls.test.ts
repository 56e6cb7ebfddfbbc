/**
 * etcdctl v2 mode over TLS (`--ca-file --cert-file --key-file`, `ETCDCTL_CA_FILE`...): the Go
 * etcdctl 3.4 and ours against the same `--enable-v2` server with client certificate auth, one
 * fresh server per etcdctl (same ports, so indexes repeat); stdout, stderr and exit codes must
 * match. Server under test: `CLI_TEST_ETCD_BIN` (default the real etcd 3.4); needs its v2 API.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { makeTestCerts, type TestCerts } from "../testing/certs.ts";
import { cleanEnv, runProcess, type EtcdProcess, type RunResult } from "../testing/etcd-process.ts";
import { runOnFreshMembers } from "./testing.ts";

const MAIN = join(import.meta.dir, "..", "main.ts");
const REAL = ["/usr/bin/etcdctl"];
const OURS = [process.execPath, MAIN];

interface Case {
  args: string[];
  env?: Record<string, string>;
}

/** `{C}` is the certificate directory, `{EP}` the https endpoint. */
const CASES: Case[] = [
  { args: ["--ca-file", "{C}/ca.pem", "--cert-file", "{C}/client.pem", "--key-file", "{C}/client-key.pem", "set", "/tls", "secure"] },
  { args: ["--ca-file", "{C}/ca.pem", "--cert-file", "{C}/client.pem", "--key-file", "{C}/client-key.pem", "-o", "json", "get", "/tls"] },
  { args: ["get", "/tls"], env: { ETCDCTL_CA_FILE: "{C}/ca.pem", ETCDCTL_CERT_FILE: "{C}/client.pem", ETCDCTL_KEY_FILE: "{C}/client-key.pem" } },
  { args: ["--ca-file", "{C}/ca.pem", "--cert-file", "{C}/client.pem", "--key-file", "{C}/client-key.pem", "member", "list"] },
  { args: ["--ca-file", "{C}/missing.pem", "get", "/tls"] },
  { args: ["--ca-file", "{C}/ca.pem", "--cert-file", "{C}/client.pem", "get", "/tls"] },
  { args: ["--ca-file", "{C}/ca.pem", "--cert-file", "{C}/client.pem", "--key-file", "{C}/nokey.pem", "get", "/tls"] },
  { args: ["--ca-file", "{C}/other-ca.pem", "--cert-file", "{C}/client.pem", "--key-file", "{C}/client-key.pem", "get", "/tls"] },
];

let certs: TestCerts;
let real: RunResult[] = [];
let ours: RunResult[] = [];
let etcd: EtcdProcess | undefined;

async function runAll(cmd: string[], ep: string): Promise<RunResult[]> {
  const fill = (s: string) => s.replaceAll("{C}", certs.dir).replaceAll("{EP}", ep);
  const out: RunResult[] = [];
  for (const c of CASES) {
    const env = { ...cleanEnv(), ETCDCTL_API: "2", ...Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)])) };
    out.push(await runProcess(cmd, ["--endpoints", ep, ...c.args.map(fill)], "", env));
  }
  return out;
}

beforeAll(async () => {
  certs = makeTestCerts();
  const tls = { ca: certs.ca, cert: certs.server.cert, key: certs.server.key, clientCertAuth: true };
  ({ real, ours, etcd } = await runOnFreshMembers("v2-tls", tls, (ep) => runAll(REAL, ep), (ep) => runAll(OURS, ep)));
}, 120_000);

afterAll(async () => {
  await etcd?.stop();
  certs?.remove();
});

describe("etcdctl v2 TLS flags: same output as etcdctl 3.4 (needs the server's v2 API)", () => {
  CASES.forEach((c, i) => {
    test([...c.args, ...Object.keys(c.env ?? {})].join(" "), () => {
      const comparable = (r: RunResult) => ({ stdout: Buffer.from(r.stdout).toString(), stderr: r.stderr.replaceAll(certs.dir, "<dir>"), code: r.code });
      expect(comparable(ours[i]!)).toEqual(comparable(real[i]!));
    });
  });
});
