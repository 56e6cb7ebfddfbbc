import { describe, expect, test } from "bun:test";
import { emptyTlsInfo } from "./tls/tls-info.ts";
import { flagToEnv, parseConfig, parseInitialCluster, parseUrls, type EtcdConfig, type ParseOutcome } from "./config.ts";

function run(outcome: ParseOutcome): EtcdConfig {
  if (outcome.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(outcome)}`);
  return outcome.config;
}

describe("parseConfig", () => {
  test("defaults match etcd 3.4", () => {
    const c = run(parseConfig([], {}));
    expect(c).toEqual({
      name: "default",
      dataDir: "default.etcd",
      listenClientUrls: ["http://localhost:2379"],
      advertiseClientUrls: ["http://localhost:2379"],
      listenPeerUrls: ["http://localhost:2380"],
      initialAdvertisePeerUrls: ["http://localhost:2380"],
      initialCluster: "default=http://localhost:2380",
      initialClusterState: "new",
      initialClusterToken: "etcd-cluster",
      strictReconfigCheck: true,
      forceNewCluster: false,
      discovery: { url: "", fallback: "proxy", proxy: "", srv: "", srvName: "" },
      enableV2: false,
      snapshotCount: 100000,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      maxTxnOps: 128,
      maxRequestBytes: 1572864,
      quotaBackendBytes: 0,
      logLevel: "info",
      logger: "zap",
      logOutputs: ["default"],
      metrics: "basic",
      listenMetricsUrls: [],
      autoCompactionMode: "periodic",
      autoCompactionRetention: "0",
      clientTls: emptyTlsInfo(),
      clientAutoTls: false,
      peerTls: emptyTlsInfo(),
      peerAutoTls: false,
      cipherSuites: [],
      selfSignedCertValidityYears: 1,
      authToken: "simple",
      authTokenTtl: 300,
      bcryptCost: 10,
      initialCorruptCheck: false,
      corruptCheckTimeMs: 0,
      compactionBatchLimit: 0,
      warningApplyDurationMs: 100,
      cors: ["*"],
      hostWhitelist: ["*"],
      enableUi: true, // ours (the web console), not etcd's
    });
  });

  test("discovery flags: --discovery* and --force-new-cluster; only one bootstrap source (etcd's ErrConflictBootstrapFlags)", () => {
    const c = run(parseConfig(["--discovery", "http://d:2379/v2/keys/discovery/t", "--discovery-fallback", "exit", "--force-new-cluster"], {}));
    expect([c.discovery, c.forceNewCluster]).toEqual([{ url: "http://d:2379/v2/keys/discovery/t", fallback: "exit", proxy: "", srv: "", srvName: "" }, true]);
    expect(run(parseConfig([], { ETCD_DISCOVERY_SRV: "example.com", ETCD_DISCOVERY_SRV_NAME: "x" })).discovery).toMatchObject({ srv: "example.com", srvName: "x" });
    const conflict = "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\"";
    expect(parseConfig(["--discovery", "http://d/t", "--initial-cluster", "a=http://a:1"], {})).toEqual({ kind: "invalid", error: conflict });
    expect(parseConfig(["--discovery", "http://d/t", "--discovery-srv", "example.com"], {})).toEqual({ kind: "invalid", error: conflict });
    expect(parseConfig(["--discovery-fallback", "maybe"], {}).kind).toBe("exit");
  });

  test("--cors takes '*' or origin URLs (etcd's URL rules), --host-whitelist host names", () => {
    const c = run(parseConfig(["--cors", "https://b.example:8443,http://a.example:80"], { ETCD_HOST_WHITELIST: "localhost,10.0.0.1" }));
    expect([c.cors, c.hostWhitelist]).toEqual([["http://a.example:80", "https://b.example:8443"], ["localhost", "10.0.0.1"]]);
    // etcd 3.4: `invalid value "http://a.example" for flag -cors: URL address does not have the form "host:port": http://a.example`
    const bad = parseConfig(["--cors", "http://a.example"], {});
    expect(bad.kind).toBe("exit");
    expect((bad as { stderr: string }).stderr).toStartWith('invalid value "http://a.example" for flag -cors: URL address does not have the form "host:port": http://a.example\n');
    expect(parseConfig(["--cors", "*,http://a:1"], {}).kind).toBe("exit");
  });

  test("TLS flags and ETCD_* variables fill the client and peer TlsInfo", () => {
    const c = run(
      parseConfig(
        [
          "--cert-file", "s.crt", "--key-file", "s.key", "--trusted-ca-file", "ca.crt", "--client-cert-auth",
          "--client-crl-file", "c.crl", "--peer-cert-file=p.crt", "--peer-cert-allowed-cn", "etcd-peer",
          "--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "--listen-client-urls", "https://127.0.0.1:2379", "--advertise-client-urls", "https://127.0.0.1:2379",
        ],
        { ETCD_PEER_KEY_FILE: "p.key", ETCD_PEER_CLIENT_CERT_AUTH: "true", ETCD_AUTO_TLS: "1", ETCD_PEER_AUTO_TLS: "true" },
      ),
    );
    const suites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"];
    expect(c.clientTls).toEqual({ ...emptyTlsInfo(), certFile: "s.crt", keyFile: "s.key", trustedCaFile: "ca.crt", clientCertAuth: true, crlFile: "c.crl", cipherSuites: suites });
    expect(c.peerTls).toEqual({ ...emptyTlsInfo(), certFile: "p.crt", keyFile: "p.key", clientCertAuth: true, allowedCn: "etcd-peer", cipherSuites: suites });
    expect([c.clientAutoTls, c.peerAutoTls, c.cipherSuites]).toEqual([true, true, suites]);
    expect(c.listenClientUrls).toEqual(["https://127.0.0.1:2379"]);
  });

  test("name drives data-dir and the default initial-cluster", () => {
    const c = run(parseConfig(["--name", "infra0", "--initial-advertise-peer-urls", "http://10.0.0.1:2380,http://10.0.0.2:2380"], {}));
    expect(c.dataDir).toBe("infra0.etcd");
    expect(c.initialCluster).toBe("infra0=http://10.0.0.1:2380,infra0=http://10.0.0.2:2380");
    // An explicit initial-cluster is kept.
    expect(run(parseConfig(["--name", "a", "--initial-cluster", "a=http://1.2.3.4:1"], {})).initialCluster).toBe("a=http://1.2.3.4:1");
  });

  test("Go flag syntax: single dash, =value, values kept as strings, dash-leading values", () => {
    const c = run(parseConfig(["-name", "007", "--data-dir=/tmp/x", "--initial-cluster-token", "-tok", "-heartbeat-interval=0x10", "--election-timeout", "0200"], {}));
    expect(c.name).toBe("007");
    expect(c.dataDir).toBe("/tmp/x");
    expect(c.initialClusterToken).toBe("-tok");
    expect(c.heartbeatIntervalMs).toBe(16);
    expect(c.electionTimeoutMs).toBe(128); // Go base-0 parsing: leading 0 is octal
    expect(run(parseConfig(["--name", "a", "--name", "b"], {})).name).toBe("b");
  });

  test("URL lists are validated, de-duplicated and sorted like types.NewURLs", () => {
    const c = run(parseConfig(["--listen-client-urls", " http://127.0.0.2:1,HTTP://127.0.0.1:1,http://127.0.0.1:1", "--advertise-client-urls", "http://b:1,http://a:1"], {}));
    expect(c.listenClientUrls).toEqual(["http://127.0.0.1:1", "http://127.0.0.2:1"]);
    expect(c.advertiseClientUrls).toEqual(["http://a:1", "http://b:1"]);
    expect(() => parseUrls("127.0.0.1:2379")).toThrow("URL scheme must be http, https, unix, or unixs: 127.0.0.1:2379");
    expect(() => parseUrls("http://127.0.0.1")).toThrow('URL address does not have the form "host:port": http://127.0.0.1');
    expect(() => parseUrls("http://127.0.0.1:1/")).toThrow("URL must not contain a path: http://127.0.0.1:1/");
    expect(parseUrls("http://[::1]:2379")).toEqual(["http://[::1]:2379"]);
  });

  test("environment variables: ETCD_<FLAG>, the flag wins", () => {
    expect(flagToEnv("initial-cluster-token")).toBe("ETCD_INITIAL_CLUSTER_TOKEN");
    const env = { ETCD_NAME: "fromenv", ETCD_MAX_TXN_OPS: "7", ETCD_SNAPSHOT_COUNT: "" };
    expect(run(parseConfig([], env)).name).toBe("fromenv");
    expect(run(parseConfig([], env)).maxTxnOps).toBe(7);
    expect(run(parseConfig([], env)).snapshotCount).toBe(100000);
    const both = parseConfig(["--name", "fromflag"], env);
    expect(run(both).name).toBe("fromflag");
    expect(both.kind === "run" && both.warnings.some((w) => w.includes("ETCD_NAME"))).toBe(true);
    const unknown = parseConfig([], { ETCD_BOGUS: "1" });
    expect(unknown.kind === "run" && unknown.warnings).toEqual(["unrecognized environment variable ETCD_BOGUS=1"]);
    expect(parseConfig([], { ETCD_HEARTBEAT_INTERVAL: "xyz" })).toEqual({
      kind: "invalid",
      error: 'invalid value "xyz" for ETCD_HEARTBEAT_INTERVAL: parse error',
    });
  });

  test("flag syntax errors exit 2 with Go's flag messages, like etcd", () => {
    const cases: [string[], string][] = [
      [["--bogus"], "flag provided but not defined: -bogus"],
      [["--name"], "flag needs an argument: -name"],
      [["--heartbeat-interval", "abc"], 'invalid value "abc" for flag -heartbeat-interval: parse error'],
      [["--max-txn-ops", "-1"], 'invalid value "-1" for flag -max-txn-ops: parse error'],
      [["--initial-cluster-state", "bogus"], 'invalid value "bogus" for flag -initial-cluster-state: invalid value'],
      [["--listen-client-urls", "ftp://127.0.0.1:1"], 'invalid value "ftp://127.0.0.1:1" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1'],
    ];
    for (const [argv, first] of cases) {
      const out = parseConfig(argv, {});
      expect(out.kind).toBe("exit");
      if (out.kind !== "exit") continue;
      expect(out.code).toBe(2);
      expect(out.stderr!.split("\n")[0]).toBe(first);
    }
  });

  test("validation errors are etcd's texts (exit 1 in main)", () => {
    const cases: [string[], string][] = [
      [["extra"], "'extra' is not a valid flag"],
      [["--listen-client-urls", "http://127.0.0.1:23790"], "--advertise-client-urls is required when --listen-client-urls is set explicitly"],
      [["--heartbeat-interval", "0"], "--heartbeat-interval must be >0 (set to 0ms)"],
      [["--heartbeat-interval", "300"], "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]"],
      [["--election-timeout", "60000"], "--election-timeout[60000ms] is too long, and should be set less than 50000ms"],
      [["--listen-client-urls", "http://example.com:1", "--advertise-client-urls", "http://a:1"], "expected IP in URL for binding (http://example.com:1)"],
      [["--advertise-client-urls", "http://:1"], '--advertise-client-urls "http://:1" must be "host:port" (unexpected empty host (http://:1))'],
      [["--logger", "bogus"], 'unknown logger option "bogus"'],
      [["--log-level", "bogus"], 'unknown level "bogus"'],
    ];
    for (const [argv, error] of cases) expect(parseConfig(argv, {})).toEqual({ kind: "invalid", error });
    // Setting listen-client-urls through the environment counts as explicit too.
    expect(parseConfig([], { ETCD_LISTEN_CLIENT_URLS: "http://127.0.0.1:1" }).kind).toBe("invalid");
  });

  test("--help and --version print and exit 0", () => {
    const help = parseConfig(["--help"], {});
    expect(help.kind === "exit" && help.code === 0 && help.stdout!.includes("--initial-cluster-token 'etcd-cluster'")).toBe(true);
    expect(parseConfig(["-h"], {}).kind).toBe("exit");
    const version = parseConfig(["--version"], {});
    expect(version.kind === "exit" && version.code).toBe(0);
    expect(version.kind === "exit" && version.stdout!.split("\n")[0]).toBe("etcd Version: 3.4.23");
    expect(parseConfig(["--version=false"], {}).kind).toBe("run");
  });
});

describe("parseInitialCluster", () => {
  test("names may repeat to list several peer URLs", () => {
    expect(parseInitialCluster("a=http://1.1.1.1:2,b=http://2.2.2.2:2,a=http://0.0.0.0:2")).toEqual(
      new Map([
        ["a", ["http://0.0.0.0:2", "http://1.1.1.1:2"]],
        ["b", ["http://2.2.2.2:2"]],
      ]),
    );
    expect(() => parseInitialCluster("a=localhost:2")).toThrow("URL scheme must be");
  });
});

describe("corruption check flags", () => {
  test("--experimental-initial-corrupt-check and --experimental-corrupt-check-time (Go durations)", () => {
    const r = parseConfig(["--experimental-initial-corrupt-check", "--experimental-corrupt-check-time", "1m30s"], {});
    expect(r.kind === "run" && [r.config.initialCorruptCheck, r.config.corruptCheckTimeMs]).toEqual([true, 90_000]);
    const bad = parseConfig(["--experimental-corrupt-check-time", "5"], {});
    expect(bad.kind).toBe("exit");
  });
});

describe("auth flags", () => {
  test("--auth-token, --auth-token-ttl, --bcrypt-cost and their ETCD_* variables", () => {
    const c = run(parseConfig(["--auth-token", "jwt,sign-method=RS256,priv-key=/k", "--bcrypt-cost=12"], { ETCD_AUTH_TOKEN_TTL: "60" }));
    expect([c.authToken, c.authTokenTtl, c.bcryptCost]).toEqual(["jwt,sign-method=RS256,priv-key=/k", 60, 12]);
    const d = run(parseConfig([], {}));
    expect([d.authToken, d.authTokenTtl, d.bcryptCost]).toEqual(["simple", 300, 10]);
    const bad = parseConfig(["--bcrypt-cost", "ten"], {});
    expect(bad.kind === "exit" && bad.code).toBe(2);
  });
});
