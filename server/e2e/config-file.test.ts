/**
 * `--config-file`: a member configured only by etcd's YAML file (cluster settings, client mTLS and
 * peer TLS in `client-transport-security`/`peer-transport-security`) starts and serves Go
 * etcdctl while contradicting flags and `ETCD_*` variables are ignored; bad files stop the server
 * with exit code 1 and etcd's error text. Runs unchanged against real etcd 3.4
 * (`E2E_ETCD_BIN=/usr/bin/etcd`), where the texts were first observed.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestPki } from "./certs.ts";
import { cleanup, type EtcdProcess, etcdBin, freePort, goEtcdctl, IS_REAL_ETCD, makeTempDir, run, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);
afterAll(cleanup);

/** SIGTERM: ours exits 0; Go etcd re-raises SIGTERM after its shutdown handlers (as in lifecycle.test.ts). */
async function stopCleanly(p: EtcdProcess): Promise<void> {
  const code = await p.stop(15_000);
  expect(IS_REAL_ETCD ? ["SIGTERM", 0] : [0]).toContain(p.proc.signalCode ?? code);
}

describe("--config-file", () => {
  test("a member configured by the file alone (cluster settings, client mTLS, peer TLS) serves; flags and ETCD_* are ignored", async () => {
    const dir = makeTempDir("config-file");
    const pki = makeTestPki(dir, { peerCns: ["infra1"] });
    const clientPort = await freePort();
    const peerPort = await freePort();
    const client = `https://127.0.0.1:${clientPort}`;
    const peer = `https://127.0.0.1:${peerPort}`;
    const file = join(dir, "etcd.conf.yml");
    writeFileSync(
      file,
      [
        "name: infra1",
        `data-dir: ${join(dir, "infra1.etcd")}`,
        `listen-client-urls: ${client}`,
        `advertise-client-urls: ${client}`,
        `listen-peer-urls: ${peer}`,
        `initial-advertise-peer-urls: ${peer}`,
        `initial-cluster: infra1=${peer}`,
        "initial-cluster-token: config-file-test",
        "initial-cluster-state: new",
        "heartbeat-interval: 100",
        "election-timeout: 1000",
        "snapshot-count: 10000",
        "logger: zap",
        "log-level: info",
        "log-outputs: [stderr]",
        "client-transport-security:",
        `  cert-file: ${pki.server.cert}`,
        `  key-file: ${pki.server.key}`,
        "  client-cert-auth: true",
        `  trusted-ca-file: ${pki.ca}`,
        "peer-transport-security:",
        `  cert-file: ${pki.peers.infra1!.cert}`,
        `  key-file: ${pki.peers.infra1!.key}`,
        "  client-cert-auth: true",
        `  trusted-ca-file: ${pki.ca}`,
        "",
      ].join("\n"),
    );
    const p = await startEtcd({
      standardFlags: false,
      dataDir: join(dir, "infra1.etcd"),
      clientPort,
      peerPort,
      // Contradicting flags and variables: etcd ignores them when a config file is given.
      extraArgs: ["--config-file", file, "--name", "wrong", "--listen-client-urls", "http://127.0.0.1:1", "--advertise-client-urls", "http://127.0.0.1:1"],
      env: { ETCD_NAME: "wrong-too", ETCD_DATA_DIR: join(dir, "wrong.etcd") },
      clientTls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key },
    });
    const tls = [`--cacert=${pki.ca}`, `--cert=${pki.client.cert}`, `--key=${pki.client.key}`];
    const put = await goEtcdctl(p.endpoint, [...tls, "put", "from", "file"]);
    expect(put.stdout.trim()).toBe("OK");
    const members = await goEtcdctl(p.endpoint, [...tls, "member", "list", "-w", "simple"]);
    expect(members.stdout).toContain(`, started, infra1, ${peer}, ${client}, false`);
    // Without a client certificate the mTLS port refuses.
    const refused = await goEtcdctl(p.endpoint, [`--cacert=${pki.ca}`, "--dial-timeout=2s", "--command-timeout=3s", "get", "from"]);
    expect(refused.code).not.toBe(0);
    expect(p.log()).toMatch(/loaded server configuration|Loading server configuration/);
    await stopCleanly(p);
  });

  const badFiles: [string, string, string][] = [
    ["a value of the wrong type", "heartbeat-interval: abc\n", "json: cannot unmarshal string into Go struct field configYAML.heartbeat-interval of type uint"],
    ["a TLS section value of the wrong type", "client-transport-security:\n  client-cert-auth: 5\n", "json: cannot unmarshal number into Go struct field securityConfig.client-transport-security.client-cert-auth of type bool"],
    ["a retention given as a number", "auto-compaction-retention: 1\n", "json: cannot unmarshal number into Go struct field configYAML.auto-compaction-retention of type string"],
    ["broken YAML", "name: [\n", "error converting YAML to JSON: yaml: "],
    ["a bad URL", "listen-client-urls: foo://x\n", "unexpected error setting up listen-client-urls: URL scheme must be http, https, unix, or unixs: foo://x"],
    ["a bad cluster state", "initial-cluster-state: bogus\n", "unexpected clusterState"],
  ];
  for (const [what, yaml, message] of badFiles) {
    test(`a file with ${what} stops the server: exit 1 and etcd's message`, async () => {
      const dir = makeTempDir("bad-config");
      const file = join(dir, "etcd.conf.yml");
      writeFileSync(file, yaml);
      const r = await run([etcdBin(), "--config-file", file], { cwd: dir, timeoutMs: 10_000 });
      expect(r.code).toBe(1);
      // Real etcd prints `error verifying flags, <error>. See 'etcd --help'.`; we log `failed to verify flags` with the error.
      expect(r.stdout + r.stderr).toContain(message);
    });
  }

  test("a missing file stops the server: exit 1, `open <path>: no such file or directory`", async () => {
    const dir = makeTempDir("no-config");
    const r = await run([etcdBin(), "--config-file", join(dir, "missing.yml")], { cwd: dir, timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`open ${join(dir, "missing.yml")}: no such file or directory`);
  });

  test("keys etcd 3.4 does not know are ignored, as etcd ignores them", async () => {
    const dir = makeTempDir("unknown-key");
    const clientPort = await freePort();
    const peerPort = await freePort();
    const file = join(dir, "etcd.conf.yml");
    writeFileSync(
      file,
      [
        `data-dir: ${join(dir, "default.etcd")}`,
        `listen-client-urls: http://127.0.0.1:${clientPort}`,
        `advertise-client-urls: http://127.0.0.1:${clientPort}`,
        `listen-peer-urls: http://127.0.0.1:${peerPort}`,
        `initial-advertise-peer-urls: http://127.0.0.1:${peerPort}`,
        `initial-cluster: default=http://127.0.0.1:${peerPort}`,
        "no-such-key: 1",
        "",
      ].join("\n"),
    );
    const p = await startEtcd({ standardFlags: false, dataDir: join(dir, "default.etcd"), clientPort, peerPort, extraArgs: ["--config-file", file] });
    await stopCleanly(p);
  });
});
