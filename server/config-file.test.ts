import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type EtcdConfig, type ParseOutcome } from "./config.ts";
import { parseConfigFile } from "./config-file.ts";

const files = new Map<string, string>();
const read = (p: string) => {
  const t = files.get(p);
  if (t === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
  return t;
};
const parse = (text: string): ParseOutcome => {
  files.set("/etc/etcd/etcd.conf.yml", text);
  return parseConfigFile("/etc/etcd/etcd.conf.yml", read);
};
const run = (o: ParseOutcome): EtcdConfig & { warnings: string[] } => {
  if (o.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(o)}`);
  return { ...o.config, warnings: o.warnings };
};

const CLUSTER = `
name: infra1
data-dir: /var/lib/etcd/infra1
listen-client-urls: https://10.0.0.1:2379,http://127.0.0.1:2379
advertise-client-urls: https://10.0.0.1:2379
listen-peer-urls: https://10.0.0.1:2380
initial-advertise-peer-urls: https://10.0.0.1:2380
initial-cluster: infra1=https://10.0.0.1:2380,infra2=https://10.0.0.2:2380
initial-cluster-token: tok
initial-cluster-state: existing
snapshot-count: 10000
heartbeat-interval: 200
election-timeout: 2000
quota-backend-bytes: 8589934592
log-level: warn
log-outputs: [stderr, /var/log/etcd.log]
auto-compaction-mode: periodic
auto-compaction-retention: "1h"
strict-reconfig-check: yes
client-transport-security:
  cert-file: /etc/etcd/server.crt
  key-file: /etc/etcd/server.key
  client-cert-auth: true
  trusted-ca-file: /etc/etcd/ca.crt
  auto-tls: false
peer-transport-security:
  cert-file: /etc/etcd/peer.crt
  key-file: /etc/etcd/peer.key
  client-cert-auth: true
  trusted-ca-file: /etc/etcd/peer-ca.crt
  allowed-cn: etcd-peer
`;

describe("--config-file (embed/config.go configFromFile)", () => {
  test("keys and TLS sections map to the flags' settings", () => {
    const c = run(parse(CLUSTER));
    expect(c.name).toBe("infra1");
    expect(c.dataDir).toBe("/var/lib/etcd/infra1");
    expect(c.listenClientUrls).toEqual(["http://127.0.0.1:2379", "https://10.0.0.1:2379"]);
    expect(c.initialCluster).toBe("infra1=https://10.0.0.1:2380,infra2=https://10.0.0.2:2380");
    expect(c.initialClusterState).toBe("existing");
    expect([c.snapshotCount, c.heartbeatIntervalMs, c.electionTimeoutMs, c.quotaBackendBytes]).toEqual([10000, 200, 2000, 8589934592]);
    expect(c.logLevel).toBe("warn");
    expect(c.logOutputs).toEqual(["stderr", "/var/log/etcd.log"]);
    expect([c.autoCompactionMode, c.autoCompactionRetention]).toEqual(["periodic", "1h"]);
    expect(c.strictReconfigCheck).toBe(true);
    expect(run(parse("experimental-warning-apply-duration: 250000000\n")).warningApplyDurationMs).toBe(250);
    expect(c.clientTls).toMatchObject({ certFile: "/etc/etcd/server.crt", keyFile: "/etc/etcd/server.key", clientCertAuth: true, trustedCaFile: "/etc/etcd/ca.crt" });
    expect(c.peerTls).toMatchObject({ certFile: "/etc/etcd/peer.crt", keyFile: "/etc/etcd/peer.key", clientCertAuth: true, trustedCaFile: "/etc/etcd/peer-ca.crt", allowedCn: "etcd-peer" });
    expect(c.warnings).toEqual([]);
    expect(run(parse("auth-token: simple\nauth-token-ttl: 600\nbcrypt-cost: 12\n"))).toMatchObject({ authToken: "simple", authTokenTtl: 600, bcryptCost: 12, warnings: [] });
  });

  test("flags and ETCD_* variables are ignored once a file is given (flag or ETCD_CONFIG_FILE)", () => {
    const dir = mkdtempSync(join(tmpdir(), "etcd-ts-config-file-"));
    try {
      const path = join(dir, "etcd.conf.yml");
      writeFileSync(path, "name: fromfile\nlisten-client-urls: http://127.0.0.1:2379\n");
      const viaFlag = run(parseConfig(["--config-file", path, "--name", "fromflag", "--election-timeout", "5"], { ETCD_NAME: "fromenv", ETCD_DATA_DIR: "/x" }));
      expect([viaFlag.name, viaFlag.dataDir, viaFlag.electionTimeoutMs]).toEqual(["fromfile", "fromfile.etcd", 1000]);
      const viaEnv = run(parseConfig([], { ETCD_CONFIG_FILE: path, ETCD_NAME: "fromenv" }));
      expect(viaEnv.name).toBe("fromfile");
      // Flag syntax is still checked first, as Go's flag package does.
      expect(parseConfig(["--config-file", path, "--bogus"], {}).kind).toBe("exit");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("etcd's NewConfig defaults stay: listen-client-urls alone keeps the default advertise URL; initial-cluster stays default", () => {
    const c = run(parse("listen-client-urls: http://127.0.0.1:2379\n"));
    expect(c.advertiseClientUrls).toEqual(["http://localhost:2379"]);
    expect(c.initialCluster).toBe("default=http://localhost:2380");
    expect(run(parse("")).name).toBe("default");
  });

  test("enable-v2 turns on the v2 API (default false, as etcd 3.4)", () => {
    expect(run(parse("enable-v2: true\n")).enableV2).toBe(true);
    expect(run(parse("name: a\n")).enableV2).toBe(false);
  });

  test("unknown keys are ignored as etcd 3.4 ignores them, with a warning each", () => {
    const c = run(parse("name: a\nbogus-key: 1\nenable-pprof: true\nclient-transport-security:\n  crl: x\n"));
    expect(c.name).toBe("a");
    expect(c.warnings).toEqual([
      'ignored unknown configuration key "bogus-key"',
      'ignored configuration key "enable-pprof": not supported by this server',
      'ignored unknown configuration key "client-transport-security.crl"',
    ]);
  });

  test("wrong types, bad YAML, bad values and a missing file fail with etcd's texts", () => {
    const err = (text: string) => {
      const o = parse(text);
      return o.kind === "invalid" ? o.error : `unexpected ${o.kind}`;
    };
    const prefix = "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal";
    expect(err("experimental-corrupt-check-time: 5m\n")).toBe(`${prefix} string into Go struct field configYAML.experimental-corrupt-check-time of type time.Duration`);
    expect(err("heartbeat-interval: abc\n")).toBe(`${prefix} string into Go struct field configYAML.heartbeat-interval of type uint`);
    expect(err("heartbeat-interval: -5\n")).toBe(`${prefix} number -5 into Go struct field configYAML.heartbeat-interval of type uint`);
    expect(err("name: 123\n")).toBe(`${prefix} number into Go struct field configYAML.name of type string`);
    expect(err("auto-compaction-retention: 1\n")).toBe(`${prefix} number into Go struct field configYAML.auto-compaction-retention of type string`);
    expect(err("log-outputs: stderr\n")).toBe(`${prefix} string into Go struct field configYAML.log-outputs of type []string`);
    expect(err("client-transport-security:\n  client-cert-auth: 5\n")).toBe(
      `${prefix} number into Go struct field securityConfig.client-transport-security.client-cert-auth of type bool`,
    );
    expect(err("client-transport-security: 5\n")).toBe(`${prefix} number into Go struct field configYAML.client-transport-security of type embed.securityConfig`);
    expect(err("- a\n- b\n")).toBe(`${prefix} array into Go value of type embed.configYAML`);
    expect(err("name: [\n")).toStartWith("error converting YAML to JSON: yaml: ");
    expect(err("listen-client-urls: foo://x\n")).toBe("unexpected error setting up listen-client-urls: URL scheme must be http, https, unix, or unixs: foo://x");
    expect(err("initial-cluster-state: bogus\n")).toBe('unexpected clusterState "bogus"');
    expect(err("log-level: loud\n")).toBe('unknown level "loud"');
    expect(err("auto-compaction-mode: foo\n")).toBe('unknown auto-compaction-mode "foo"');
    expect(parseConfigFile("/nonexistent.yml", read)).toEqual({ kind: "invalid", error: "open /nonexistent.yml: no such file or directory" });
  });
});
