/**
 * The `etcd` binary's command line: etcd v3.4's flag names, defaults, `ETCD_*` environment
 * variables, validation rules and error texts (etcdmain/config.go, embed/config.go,
 * pkg/flags, pkg/types/urls.go).
 *
 * Flags follow Go's `flag` package syntax, which etcd users rely on and which generic
 * option parsers (cac/mri, util.parseArgs) do not reproduce: `-name x` and `--name x` are
 * the same flag, `--name=x` works, the token after a non-boolean flag is always its value
 * (even `--name -x`), values stay strings (`--name 007` is not the number 7), the first
 * non-flag argument stops parsing. So flags are tokenised here by Go's rules rather than
 * with cac (the project's CLI library, used by etcdctl), whose parser would change them.
 */
import pkg from "../package.json" with { type: "json" };
import { emptyTlsInfo, type TlsInfo } from "./tls/tls-info.ts";
import { parseConfigFile } from "./config-file.ts";
import { goParseDuration } from "../cli/go/duration.ts";

/** Version this server reports as `etcdserver` (Maintenance.Status, `/version`): the etcd release whose API it mirrors. */
export const ETCD_SERVER_VERSION = "3.4.23";
/** Cluster version reported by `/version` (`etcdcluster`), as etcd 3.4 reports it. */
export const ETCD_CLUSTER_VERSION = "3.4.0";
/** Version of this implementation (package.json). */
export const IMPLEMENTATION_VERSION: string = pkg.version;

declare const ETCD_GIT_SHA: string | undefined;
/** Git commit of this build: `bun build --define ETCD_GIT_SHA='"<sha>"'`, else "Not provided". */
export const GIT_SHA: string = typeof ETCD_GIT_SHA === "string" ? ETCD_GIT_SHA : "Not provided";

/** Log levels accepted by `--log-level` (etcd: debug, info, warn, error, panic, fatal). */
export type LogLevel = "debug" | "info" | "warn" | "error" | "panic" | "fatal";
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "panic", "fatal"];

/** `--initial-cluster-state`: bootstrap a new cluster or join an existing one. */
export type ClusterState = "new" | "existing";

/** The `--discovery*` flags (etcd 3.4 embed/config.go); empty strings when not given. */
export interface DiscoveryFlags {
  /** `--discovery`: `<v2 keys URL>/<token>` of a discovery cluster. */
  url: string;
  /** `--discovery-fallback`: `exit` or `proxy` (default `proxy`, refused: no proxy mode here). */
  fallback: "exit" | "proxy";
  /** `--discovery-proxy`: HTTP proxy for the discovery traffic. */
  proxy: string;
  /** `--discovery-srv`: DNS domain holding `_etcd-server(-ssl)._tcp` SRV records. */
  srv: string;
  /** `--discovery-srv-name`: suffix of the SRV service name. */
  srvName: string;
}

/**
 * The parsed and validated configuration of one member. URL lists are normalised like
 * etcd's `types.NewURLs`: trimmed, scheme lower-cased, de-duplicated, sorted.
 */
export interface EtcdConfig {
  /** `--name`: human-readable member name (default `default`). */
  name: string;
  /** `--data-dir`: data directory (default `<name>.etcd`). */
  dataDir: string;
  /** `--listen-client-urls`: where to serve clients (default `http://localhost:2379`). */
  listenClientUrls: string[];
  /** `--advertise-client-urls`: client URLs published in the member record (default `http://localhost:2379`). */
  advertiseClientUrls: string[];
  /** `--listen-peer-urls`: where to serve peers (default `http://localhost:2380`). */
  listenPeerUrls: string[];
  /** `--initial-advertise-peer-urls`: this member's peer URLs (default `http://localhost:2380`). */
  initialAdvertisePeerUrls: string[];
  /** `--initial-cluster`: `name=peerURL,...` (default `<name>=<initial-advertise-peer-urls>`); see {@link parseInitialCluster}. */
  initialCluster: string;
  /** `--initial-cluster-state`: `new` (default) or `existing`. */
  initialClusterState: ClusterState;
  /** `--initial-cluster-token`: mixed into member and cluster IDs (default `etcd-cluster`). */
  initialClusterToken: string;
  /** `--strict-reconfig-check`: refuse membership changes that could cost the quorum (default true). */
  strictReconfigCheck: boolean;
  /** `--force-new-cluster`: restart on the data as a one-member cluster (server/recovery/force-new-cluster.ts). */
  forceNewCluster?: boolean;
  /** `--discovery*` flags (server/discovery/). */
  discovery?: DiscoveryFlags;
  /** `--enable-v2`: serve etcd's v2 API (`/v2/keys`, `/v2/members`, `/v2/stats`) on the client port (default false). */
  enableV2: boolean;
  /** `--snapshot-count`: committed entries between snapshots (default 100000). */
  snapshotCount: number;
  /** `--heartbeat-interval` in milliseconds (default 100). */
  heartbeatIntervalMs: number;
  /** `--election-timeout` in milliseconds (default 1000). */
  electionTimeoutMs: number;
  /** `--max-txn-ops`: most operations in one Txn branch (default 128). */
  maxTxnOps: number;
  /** `--max-request-bytes`: largest proposal in bytes (default 1572864 = 1.5 MiB). */
  maxRequestBytes: number;
  /** `--quota-backend-bytes`: backend size alarm threshold in bytes; 0 means etcd's default 2 GiB. */
  quotaBackendBytes: number;
  /** `--experimental-initial-corrupt-check`: compare HashKV with the peers before serving (default false). */
  initialCorruptCheck?: boolean;
  /** `--experimental-corrupt-check-time`: period of the leader's corruption check, ms (0: off, the default). */
  corruptCheckTimeMs?: number;
  /** `--experimental-compaction-batch-limit`: compacted rows deleted per batch (0 or less: 10 000). */
  compactionBatchLimit?: number;
  /** `--experimental-warning-apply-duration`: a request slower than this is logged and counted as slow, ms (default 100). */
  warningApplyDurationMs?: number;
  /** `--log-level` (default `info`). */
  logLevel: LogLevel;
  /** `--logger` (`zap` default here; `capnslog` accepted for compatibility, output is always zap-style JSON). */
  logger: "zap" | "capnslog";
  /**
   * Client TLS (`--cert-file --key-file --trusted-ca-file --client-cert-auth --client-crl-file
   * --client-cert-allowed-hostname`, `cipherSuites` from `--cipher-suites`); used by `https://`
   * listen client URLs. parseConfig always sets the TLS fields (empty by default); configs built
   * by hand may leave them out (no TLS).
   */
  clientTls?: TlsInfo;
  /** `--auto-tls`: make a self-signed client certificate under `<data-dir>/fixtures/client` when `--cert-file/--key-file` are not given. */
  clientAutoTls?: boolean;
  /**
   * Peer TLS (`--peer-cert-file --peer-key-file --peer-trusted-ca-file --peer-client-cert-auth
   * --peer-crl-file --peer-cert-allowed-cn --peer-cert-allowed-hostname
   * --experimental-peer-skip-client-san-verification`); used by `https://` peer URLs, both to serve
   * and to dial other members.
   */
  peerTls?: TlsInfo;
  /** `--peer-auto-tls`: make a self-signed peer certificate under `<data-dir>/fixtures/peer` when `--peer-cert-file/--peer-key-file` are not given. */
  peerAutoTls?: boolean;
  /** `--cipher-suites`: Go cipher suite names for TLS 1.2, client and peer sides (empty: defaults). */
  cipherSuites?: string[];
  /** `--metrics`: `basic` (default) or `extensive` (adds gRPC latency histograms); etcd 3.4 takes any other value as basic. */
  metrics?: "basic" | "extensive";
  /** `--listen-metrics-urls`: extra `http://` URLs serving `/metrics` and the health probes (default none). */
  listenMetricsUrls?: string[];
  /** `--log-outputs`: `default` (stderr), `stderr`, `stdout` or file paths; several allowed (server/log-outputs.ts). */
  logOutputs?: string[];
  /** `--auto-compaction-mode`: `periodic` (default) or `revision` (server/compactor/). */
  autoCompactionMode?: "periodic" | "revision";
  /** `--auto-compaction-retention`: `0` disables; periodic: a duration (`1h`, `30m`, bare number = hours); revision: a count. */
  autoCompactionRetention?: string;
  /**
   * `--self-signed-cert-validity`: years the `--auto-tls`/`--peer-auto-tls` certificates are valid
   * (default 1). etcd 3.5's flag; etcd 3.4 always makes them for one year.
   */
  selfSignedCertValidityYears?: number;
  /**
   * `--auth-token`: `simple` (default) or `jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>[,ttl=<duration>]`
   * (server/auth/tokens.ts; checked when the member starts).
   */
  authToken: string;
  /** `--auth-token-ttl`: seconds a simple token lives after its last use (default 300). */
  authTokenTtl: number;
  /** `--cors`: origins allowed by CORS, as `scheme://host:port`, or `*` (default) for all; see server/http/cors.ts. */
  cors?: string[];
  /** `--host-whitelist`: host names cleartext HTTP requests may name in `Host` (default `*`: all); see server/http/host-whitelist.ts. */
  hostWhitelist?: string[];
  /** `--enable-ui`: serve the web console at `/ui` on the client URLs (default true; server/console/). Not an etcd flag. */
  enableUi?: boolean;
  /** `--bcrypt-cost`: bcrypt cost of password hashes, 4..31 (default 10; others fall back to 10 with a warning). */
  bcryptCost: number;
}

/**
 * What {@link parseConfig} decided:
 * - `run`: start the member with `config`; `warnings` are for the log (unknown `ETCD_*`
 *   variables, environment variables shadowed by flags, ignored config file keys); `notices`
 *   are info lines (the config file that was loaded).
 * - `exit`: print `stdout`/`stderr` as given and exit with `code` (0 for `--help`/`--version`,
 *   2 for flag syntax errors, like Go's flag package in etcd).
 * - `invalid`: flags parsed but failed etcd's validation; etcd logs `failed to verify flags`
 *   with this `error` and exits with code 1.
 */
export type ParseOutcome =
  | { kind: "run"; config: EtcdConfig; warnings: string[]; notices?: Notice[] }
  | { kind: "exit"; code: number; stdout?: string; stderr?: string }
  | { kind: "invalid"; error: string };

/** An info log line of the parse (message and zap fields). */
export interface Notice {
  msg: string;
  fields?: Record<string, unknown>;
}

/** How a flag's value is parsed (Go type of etcd's flag). */
export type FlagKind = "string" | "strings" | "urls" | "origins" | "uint" | "int" | "bool" | "choice" | "duration";

interface FlagSpec {
  name: string;
  kind: FlagKind;
  /** Default as etcd's help shows it; `undefined` when computed from other flags. */
  def?: string;
  help: string;
  group: "Member" | "Clustering" | "Security" | "Auth" | "Logging" | "Experimental" | "Version";
  choices?: readonly string[];
}

const FLAGS: readonly FlagSpec[] = [
  { name: "name", kind: "string", def: "default", group: "Member", help: "Human-readable name for this member." },
  { name: "data-dir", kind: "string", group: "Member", help: "Path to the data directory. Default '${name}.etcd'." },
  { name: "snapshot-count", kind: "uint", def: "100000", group: "Member", help: "Number of committed transactions to trigger a snapshot to disk." },
  { name: "heartbeat-interval", kind: "uint", def: "100", group: "Member", help: "Time (in milliseconds) of a heartbeat interval." },
  { name: "election-timeout", kind: "uint", def: "1000", group: "Member", help: "Time (in milliseconds) for an election to timeout." },
  { name: "listen-peer-urls", kind: "urls", def: "http://localhost:2380", group: "Member", help: "List of URLs to listen on for peer traffic." },
  { name: "listen-client-urls", kind: "urls", def: "http://localhost:2379", group: "Member", help: "List of URLs to listen on for client traffic." },
  { name: "auto-compaction-retention", kind: "string", def: "0", group: "Member", help: "Auto compaction retention length. 0 means disable auto compaction." },
  { name: "auto-compaction-mode", kind: "string", def: "periodic", group: "Member", help: "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention." },
  { name: "enable-v2", kind: "bool", def: "false", group: "Member", help: "Accept etcd V2 client requests." },
  { name: "config-file", kind: "string", def: "", group: "Member", help: "Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored." },
  { name: "quota-backend-bytes", kind: "int", def: "0", group: "Member", help: "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota)." },
  { name: "max-txn-ops", kind: "uint", def: "128", group: "Member", help: "Maximum number of operations permitted in a transaction." },
  { name: "max-request-bytes", kind: "uint", def: "1572864", group: "Member", help: "Maximum client request size in bytes the server will accept." },
  { name: "initial-advertise-peer-urls", kind: "urls", def: "http://localhost:2380", group: "Clustering", help: "List of this member's peer URLs to advertise to the rest of the cluster." },
  { name: "initial-cluster", kind: "string", group: "Clustering", help: "Initial cluster configuration for bootstrapping. Default '${name}=${initial-advertise-peer-urls}'." },
  { name: "initial-cluster-state", kind: "choice", def: "new", choices: ["new", "existing"], group: "Clustering", help: "Initial cluster state ('new' or 'existing')." },
  { name: "initial-cluster-token", kind: "string", def: "etcd-cluster", group: "Clustering", help: "Initial cluster token for the etcd cluster during bootstrap." },
  { name: "force-new-cluster", kind: "bool", def: "false", group: "Clustering", help: "Force to create a new one-member cluster." },
  { name: "discovery", kind: "string", def: "", group: "Clustering", help: "Discovery URL used to bootstrap the cluster." },
  { name: "discovery-fallback", kind: "choice", def: "proxy", choices: ["exit", "proxy"], group: "Clustering", help: "Expected behavior ('exit' or 'proxy') when discovery services fails.\n    \"proxy\" supports v2 API only (not in this etcd: a member refused by a full discovery cluster exits)." },
  { name: "discovery-proxy", kind: "string", def: "", group: "Clustering", help: "HTTP proxy to use for traffic to discovery service." },
  { name: "discovery-srv", kind: "string", def: "", group: "Clustering", help: "DNS srv domain used to bootstrap the cluster." },
  { name: "discovery-srv-name", kind: "string", def: "", group: "Clustering", help: "Suffix to the dns srv name queried when bootstrapping." },
  { name: "strict-reconfig-check", kind: "bool", def: "true", group: "Clustering", help: "Reject reconfiguration requests that would cause quorum loss." },
  { name: "advertise-client-urls", kind: "urls", def: "http://localhost:2379", group: "Clustering", help: "List of this member's client URLs to advertise to the public." },
  { name: "cert-file", kind: "string", def: "", group: "Security", help: "Path to the client server TLS cert file." },
  { name: "key-file", kind: "string", def: "", group: "Security", help: "Path to the client server TLS key file." },
  { name: "client-cert-auth", kind: "bool", def: "false", group: "Security", help: "Enable client cert authentication." },
  { name: "client-crl-file", kind: "string", def: "", group: "Security", help: "Path to the client certificate revocation list file." },
  { name: "client-cert-allowed-hostname", kind: "string", def: "", group: "Security", help: "Allowed TLS hostname for client cert authentication." },
  { name: "trusted-ca-file", kind: "string", def: "", group: "Security", help: "Path to the client server TLS trusted CA cert file." },
  { name: "auto-tls", kind: "bool", def: "false", group: "Security", help: "Client TLS using generated certificates." },
  { name: "peer-cert-file", kind: "string", def: "", group: "Security", help: "Path to the peer server TLS cert file." },
  { name: "peer-key-file", kind: "string", def: "", group: "Security", help: "Path to the peer server TLS key file." },
  { name: "peer-client-cert-auth", kind: "bool", def: "false", group: "Security", help: "Enable peer client cert authentication." },
  { name: "peer-trusted-ca-file", kind: "string", def: "", group: "Security", help: "Path to the peer server TLS trusted CA file." },
  { name: "peer-cert-allowed-cn", kind: "string", def: "", group: "Security", help: "Required CN for client certs connecting to the peer endpoint." },
  { name: "peer-cert-allowed-hostname", kind: "string", def: "", group: "Security", help: "Allowed TLS hostname for inter peer authentication." },
  { name: "peer-auto-tls", kind: "bool", def: "false", group: "Security", help: "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided." },
  { name: "peer-crl-file", kind: "string", def: "", group: "Security", help: "Path to the peer certificate revocation list file." },
  { name: "self-signed-cert-validity", kind: "uint", def: "1", group: "Security", help: "The validity period of the client and peer certificates that are automatically generated by etcd when you specify ClientAutoTLS and PeerAutoTLS, the unit is year, and the default is 1." },
  { name: "cors", kind: "origins", def: "*", group: "Security", help: "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all)." },
  { name: "host-whitelist", kind: "strings", def: "*", group: "Security", help: "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all)." },
  { name: "cipher-suites", kind: "strings", def: "", group: "Security", help: "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go)." },
  { name: "log-outputs", kind: "strings", def: "default", group: "Logging", help: "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets." },
  { name: "metrics", kind: "string", def: "basic", group: "Member", help: "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics." },
  { name: "listen-metrics-urls", kind: "urls", def: "", group: "Member", help: "List of URLs to listen on for the metrics and health endpoints." },
  { name: "auth-token", kind: "string", def: "simple", group: "Auth", help: "Specify a v3 authentication token type and its options ('simple' or 'jwt')." },
  { name: "bcrypt-cost", kind: "uint", def: "10", group: "Auth", help: "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31." },
  { name: "auth-token-ttl", kind: "uint", def: "300", group: "Auth", help: "Time (in seconds) of the auth-token-ttl." },
  { name: "logger", kind: "string", def: "zap", group: "Logging", help: "Accepted for compatibility: 'zap' or 'capnslog'. Logs are always zap-style JSON lines on stderr." },
  { name: "log-level", kind: "string", def: "info", group: "Logging", help: "Configures log level. Only supports debug, info, warn, error, panic, or fatal." },
  { name: "experimental-initial-corrupt-check", kind: "bool", def: "false", group: "Experimental", help: "Enable to check data corruption before serving any client/peer traffic." },
  { name: "experimental-compaction-batch-limit", kind: "int", def: "0", group: "Experimental", help: "Sets the maximum revisions deleted in each compaction batch." },
  { name: "experimental-corrupt-check-time", kind: "duration", def: "0s", group: "Experimental", help: "Duration of time between cluster corruption check passes." },
  { name: "experimental-warning-apply-duration", kind: "duration", def: "100ms", group: "Experimental", help: "Warning is generated if requests take more than this duration." },
  { name: "experimental-peer-skip-client-san-verification", kind: "bool", def: "false", group: "Experimental", help: "Skip verification of SAN field in client certificate for peer connections." },
  { name: "enable-ui", kind: "bool", def: "true", group: "Member", help: "Serve the web console at /ui on the client URLs (not an etcd 3.4 flag)." },
  { name: "version", kind: "bool", def: "false", group: "Version", help: "Print the version and exit." },
];

const FLAG_BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));

/** The kind of flag `name`, undefined for names that are not flags (server/config-file.ts maps YAML keys with it). */
export function flagKind(name: string): FlagKind | undefined {
  return FLAG_BY_NAME.get(name)?.kind;
}

const USAGE_LINE = `Usage:

  etcd [flags]
    Start an etcd server.

  etcd --version
    Show the version of etcd.

  etcd -h | --help
    Show the help information about etcd.
`;

/** `etcd --help` text: usage, then each flag with its default, grouped like etcd's help. */
export function helpText(): string {
  const lines = [USAGE_LINE];
  for (const group of ["Member", "Clustering", "Security", "Auth", "Logging", "Experimental", "Version"] as const) {
    lines.push(`${group}:`);
    for (const f of FLAGS.filter((x) => x.group === group)) {
      lines.push(`  --${f.name}${f.def === undefined || f.kind === "bool" ? "" : ` '${f.def}'`}`, `    ${f.help}`);
    }
    lines.push("");
  }
  lines.push("Every flag can also be set with the environment variable ETCD_<FLAG> (upper case, '-' as '_').", "");
  return lines.join("\n");
}

/** `etcd --version` text: etcd's four lines, adapted honestly to this implementation and runtime. */
export function versionText(): string {
  const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node.js ${process.version}`;
  return [
    `etcd Version: ${ETCD_SERVER_VERSION}`,
    `Implementation: etcd-ts ${IMPLEMENTATION_VERSION} (etcd v3 API ${ETCD_SERVER_VERSION.split(".").slice(0, 2).join(".")})`,
    `Git SHA: ${GIT_SHA}`,
    `Runtime Version: ${runtime}`,
    `OS/Arch: ${process.platform}/${process.arch}`,
    "",
  ].join("\n");
}

/** Environment variable etcd reads for a flag: `ETCD_` + upper case, `-` → `_` (pkg/flags FlagToEnv). */
export function flagToEnv(flag: string): string {
  return `ETCD_${flag.toUpperCase().replaceAll("-", "_")}`;
}

class FlagSyntaxError extends Error {}

/** Splits argv like Go's flag.FlagSet.Parse; returns raw values (last occurrence wins) and leftovers. */
function tokenize(argv: readonly string[]): { values: Map<string, string>; rest: string[]; help: boolean } {
  const values = new Map<string, string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== "-") break;
    if (arg === "--") {
      i++;
      break;
    }
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    if (body === "" || body[0] === "-" || body[0] === "=") throw new FlagSyntaxError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = FLAG_BY_NAME.get(name);
    if (!spec) {
      if (name === "help" || name === "h") return { values, rest: [], help: true };
      throw new FlagSyntaxError(`flag provided but not defined: -${name}`);
    }
    if (spec.kind === "bool") {
      const v = eq >= 0 ? body.slice(eq + 1) : "true";
      if (parseGoBool(v) === undefined) {
        throw new FlagSyntaxError(`invalid boolean value ${JSON.stringify(v)} for -${name}: parse error`);
      }
      values.set(name, v);
      continue;
    }
    if (eq >= 0) {
      values.set(name, body.slice(eq + 1));
    } else if (i + 1 < argv.length) {
      values.set(name, argv[++i]!);
    } else {
      throw new FlagSyntaxError(`flag needs an argument: -${name}`);
    }
  }
  return { values, rest: argv.slice(i), help: false };
}

function parseGoBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

/** Go's strconv.ParseUint/ParseInt with base 0 (decimal, 0x, 0o, 0b, leading-0 octal, `_` separators). */
function parseGoInt(v: string, signed: boolean): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*)$/.exec(v);
  if (!m || (m[1] && !signed) || v.includes("__") || v.endsWith("_")) throw new Error("parse error");
  let digits = m[2]!.replaceAll("_", "");
  if (/^0[0-7]/.test(digits)) digits = `0o${digits.slice(1)}`;
  const n = Number(BigInt(digits.toLowerCase().replace(/^0o$/, "0")));
  if (!Number.isSafeInteger(n)) throw new Error("value out of range");
  return m[1] === "-" ? -n : n;
}

/**
 * Parses one comma-separated URL list like etcd's `types.NewURLs`: scheme http/https/unix/unixs,
 * `host:port`, no path; trimmed, scheme lower-cased, de-duplicated and sorted.
 * Throws an Error with etcd's message on the first bad URL.
 */
export function parseUrls(value: string): string[] {
  const out = new Set<string>();
  for (const raw of value.split(",")) {
    const s = raw.trim();
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(s);
    const scheme = m?.[1]?.toLowerCase();
    if (!m || !["http", "https", "unix", "unixs"].includes(scheme!)) {
      throw new Error(`URL scheme must be http, https, unix, or unixs: ${s}`);
    }
    if (splitHostPort(m[2]!) === undefined) throw new Error(`URL address does not have the form "host:port": ${s}`);
    if (m[3]!.startsWith("/")) throw new Error(`URL must not contain a path: ${s}`);
    out.add(`${scheme}://${m[2]}${m[3]}`);
  }
  return [...out].sort();
}

/** Go's net.SplitHostPort for `host:port` / `[v6]:port`; `undefined` when malformed. */
export function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:[\]]*)$/.exec(hostport);
  if (!m) return undefined;
  return { host: m[1] ?? m[2]!, port: m[3]! };
}

/** `host:port` of a URL accepted by {@link parseUrls}. */
export function urlHostPort(url: string): { host: string; port: string } {
  const hostport = url.replace(/^[a-z]+:\/\//, "").replace(/[/?#].*$/, "");
  return splitHostPort(hostport)!;
}

/**
 * Parses `--initial-cluster` (`name=url,name=url,...`) like etcd's `types.NewURLsMap`:
 * a name may repeat to give a member several peer URLs; each member's URLs are validated
 * and sorted with {@link parseUrls}. Throws etcd's URL error text on a bad URL.
 */
export function parseInitialCluster(value: string): Map<string, string[]> {
  const raw = new Map<string, string[]>();
  for (const item of value.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const name = eq >= 0 ? item.slice(0, eq) : item;
    const url = eq >= 0 ? item.slice(eq + 1) : "";
    raw.set(name, [...(raw.get(name) ?? []), url]);
  }
  const out = new Map<string, string[]>();
  for (const [name, urls] of raw) out.set(name, parseUrls(urls.join(",")));
  return out;
}

function convert(spec: FlagSpec, value: string): string | number | boolean | string[] {
  switch (spec.kind) {
    case "string":
      return value;
    case "strings":
      // etcd's flags.StringsValue: comma-separated, empty entries dropped.
      return value.split(",").filter((v) => v !== "");
    case "urls":
      return value === "" ? [] : parseUrls(value);
    case "origins":
      // etcd's UniqueURLs with the exception "*" (the whole value), else a URL list.
      return value === "*" ? ["*"] : parseUrls(value);
    case "uint":
      return parseGoInt(value, false);
    case "int":
      return parseGoInt(value, true);
    case "bool":
      return parseGoBool(value)!;
    case "choice":
      if (!spec.choices!.includes(value)) throw new Error("invalid value");
      return value;
    case "duration":
      // Go's time.ParseDuration, in ms.
      return goParseDuration(value);
  }
}

/** etcd's embed.Config.Validate checks that apply to the flags we support, in etcd's order. */
function validate(c: EtcdConfig): string | undefined {
  if (c.logger !== "zap" && c.logger !== "capnslog") return `unknown logger option ${JSON.stringify(c.logger)}`;
  if (!LOG_LEVELS.includes(c.logLevel)) return `unknown level ${JSON.stringify(c.logLevel)}`;
  // etcd's embed.Config.Validate and etcdmain checks of the operations flags.
  if (c.autoCompactionMode !== undefined && c.autoCompactionMode !== "periodic" && c.autoCompactionMode !== "revision") {
    return `unknown auto-compaction-mode ${JSON.stringify(c.autoCompactionMode)}`;
  }
  for (const urls of [c.listenPeerUrls, c.listenClientUrls, c.listenMetricsUrls ?? []]) {
    for (const u of urls) {
      if (u.startsWith("unix")) continue;
      const { host } = urlHostPort(u);
      if (host !== "localhost" && !isIp(host)) return `expected IP in URL for binding (${u})`;
    }
  }
  const hostCheck: [string, string[]][] = [
    ["--initial-advertise-peer-urls", c.initialAdvertisePeerUrls],
    ["--advertise-client-urls", c.advertiseClientUrls],
  ];
  for (const [flag, urls] of hostCheck) {
    const bad = urls.find((u) => urlHostPort(u).host === "");
    if (bad) return `${flag} ${JSON.stringify(urls.join(","))} must be "host:port" (unexpected empty host (${bad}))`;
  }
  if (c.heartbeatIntervalMs <= 0) return `--heartbeat-interval must be >0 (set to ${c.heartbeatIntervalMs}ms)`;
  if (c.electionTimeoutMs <= 0) return `--election-timeout must be >0 (set to ${c.electionTimeoutMs}ms)`;
  if (5 * c.heartbeatIntervalMs > c.electionTimeoutMs) {
    return `--election-timeout[${c.electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${c.heartbeatIntervalMs}ms]`;
  }
  if (c.electionTimeoutMs > 50000) {
    return `--election-timeout[${c.electionTimeoutMs}ms] is too long, and should be set less than 50000ms`;
  }
  if (c.listenClientUrls.length > 0 && c.advertiseClientUrls.length === 0) {
    return "--advertise-client-urls is required when --listen-client-urls is set explicitly";
  }
  for (const u of [...c.listenClientUrls, ...c.listenPeerUrls]) {
    if (!u.startsWith("http://") && !u.startsWith("https://")) return `only http:// and https:// listen URLs are supported by this server (${u})`;
  }
  return undefined;
}

function isIp(host: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host)) return host.split(".").every((p) => Number(p) <= 255);
  return host.includes(":") && /^[0-9a-fA-F:.]+(%.+)?$/.test(host);
}

/**
 * Parses the `etcd` command line and environment into an {@link EtcdConfig}.
 *
 * Mirrors etcd v3.4 (etcdmain/config.go): flags in Go flag syntax (see module doc); each
 * flag not given on the command line is taken from `ETCD_<FLAG>` if set (a bad value there
 * is a validation error: `invalid value "x" for ETCD_FLAG: parse error`). Where both are
 * given the flag wins and a warning is returned (etcd 3.4 itself aborts in that case).
 * `--data-dir` defaults to `<name>.etcd`; `--initial-cluster` defaults to
 * `<name>=<initial-advertise-peer-urls>` when left at its default; setting
 * `--listen-client-urls` without `--advertise-client-urls` is an error, as in etcd.
 *
 * Never throws and never exits: the caller acts on the returned {@link ParseOutcome}.
 */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>): ParseOutcome {
  let tokens: ReturnType<typeof tokenize>;
  try {
    tokens = tokenize(argv);
  } catch (e) {
    if (!(e instanceof FlagSyntaxError)) throw e;
    return { kind: "exit", code: 2, stderr: `${e.message}\n${USAGE_LINE}` };
  }
  if (tokens.help) return { kind: "exit", code: 0, stdout: helpText() };
  const values = new Map<string, string | number | boolean | string[]>();
  for (const [name, raw] of tokens.values) {
    const spec = FLAG_BY_NAME.get(name)!;
    try {
      values.set(name, convert(spec, raw));
    } catch (e) {
      return { kind: "exit", code: 2, stderr: `invalid value ${JSON.stringify(raw)} for flag -${name}: ${(e as Error).message}\n${USAGE_LINE}` };
    }
  }
  if (values.get("version") === true) return { kind: "exit", code: 0, stdout: versionText() };
  // A configuration file replaces every other flag and variable (etcdmain/config.go parse).
  const configFile = (values.get("config-file") as string | undefined) || env[flagToEnv("config-file")];
  if (configFile) return parseConfigFile(configFile);
  if (tokens.rest.length > 0) return { kind: "invalid", error: `'${tokens.rest[0]}' is not a valid flag` };

  const warnings: string[] = [];
  const known = new Set(FLAGS.map((f) => flagToEnv(f.name)));
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith("ETCD_") || raw === undefined) continue;
    if (!known.has(key)) warnings.push(`unrecognized environment variable ${key}=${raw}`);
  }
  for (const spec of FLAGS) {
    const key = flagToEnv(spec.name);
    const raw = env[key];
    if (raw === undefined || raw === "") continue;
    if (values.has(spec.name)) {
      warnings.push(`environment variable ${JSON.stringify(key)} is shadowed by the command-line flag --${spec.name}; using the flag`);
      continue;
    }
    try {
      values.set(spec.name, convert(spec, raw));
    } catch (e) {
      return { kind: "invalid", error: `invalid value ${JSON.stringify(raw)} for ${key}: ${(e as Error).message}` };
    }
  }

  const get = <T>(name: string): T => (values.has(name) ? values.get(name) : convert(FLAG_BY_NAME.get(name)!, FLAG_BY_NAME.get(name)!.def!)) as T;
  const name = get<string>("name");
  const apUrls = get<string[]>("initial-advertise-peer-urls");
  const defaultInitialCluster = "default=http://localhost:2380";
  let initialCluster = values.has("initial-cluster") ? get<string>("initial-cluster") : defaultInitialCluster;
  if (name !== "default" && initialCluster === defaultInitialCluster) {
    initialCluster = apUrls.map((u) => `${name}=${u}`).join(",");
  }
  // embed.Config.Validate: one bootstrap source (an explicit --initial-cluster, --discovery, --discovery-srv).
  const sources = [values.has("initial-cluster"), get<string>("discovery") !== "", get<string>("discovery-srv") !== ""].filter(Boolean).length;
  if (sources > 1) {
    return { kind: "invalid", error: 'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"' };
  }
  const listenClientSet = values.has("listen-client-urls");
  const config: EtcdConfig = {
    name,
    dataDir: values.has("data-dir") && get<string>("data-dir") !== "" ? get<string>("data-dir") : `${name}.etcd`,
    listenClientUrls: get<string[]>("listen-client-urls"),
    advertiseClientUrls: listenClientSet && !values.has("advertise-client-urls") ? [] : get<string[]>("advertise-client-urls"),
    listenPeerUrls: get<string[]>("listen-peer-urls"),
    initialAdvertisePeerUrls: apUrls,
    initialCluster,
    initialClusterState: get<ClusterState>("initial-cluster-state"),
    initialClusterToken: get<string>("initial-cluster-token"),
    strictReconfigCheck: get<boolean>("strict-reconfig-check"),
    forceNewCluster: get<boolean>("force-new-cluster"),
    discovery: {
      url: get<string>("discovery"),
      fallback: get<"exit" | "proxy">("discovery-fallback"),
      proxy: get<string>("discovery-proxy"),
      srv: get<string>("discovery-srv"),
      srvName: get<string>("discovery-srv-name"),
    },
    enableV2: get<boolean>("enable-v2"),
    snapshotCount: get<number>("snapshot-count"),
    heartbeatIntervalMs: get<number>("heartbeat-interval"),
    electionTimeoutMs: get<number>("election-timeout"),
    maxTxnOps: get<number>("max-txn-ops"),
    maxRequestBytes: get<number>("max-request-bytes"),
    quotaBackendBytes: get<number>("quota-backend-bytes"),
    logLevel: get<LogLevel>("log-level"),
    logger: get<"zap" | "capnslog">("logger"),
    clientTls: {
      ...emptyTlsInfo(),
      certFile: get<string>("cert-file"),
      keyFile: get<string>("key-file"),
      trustedCaFile: get<string>("trusted-ca-file"),
      clientCertAuth: get<boolean>("client-cert-auth"),
      crlFile: get<string>("client-crl-file"),
      allowedHostname: get<string>("client-cert-allowed-hostname"),
      cipherSuites: get<string[]>("cipher-suites"),
    },
    clientAutoTls: get<boolean>("auto-tls"),
    peerTls: {
      ...emptyTlsInfo(),
      certFile: get<string>("peer-cert-file"),
      keyFile: get<string>("peer-key-file"),
      trustedCaFile: get<string>("peer-trusted-ca-file"),
      clientCertAuth: get<boolean>("peer-client-cert-auth"),
      crlFile: get<string>("peer-crl-file"),
      allowedCn: get<string>("peer-cert-allowed-cn"),
      allowedHostname: get<string>("peer-cert-allowed-hostname"),
      skipClientSanVerify: get<boolean>("experimental-peer-skip-client-san-verification"),
      cipherSuites: get<string[]>("cipher-suites"),
    },
    peerAutoTls: get<boolean>("peer-auto-tls"),
    cipherSuites: get<string[]>("cipher-suites"),
    selfSignedCertValidityYears: get<number>("self-signed-cert-validity"),
    metrics: get<"basic" | "extensive">("metrics"),
    listenMetricsUrls: get<string[]>("listen-metrics-urls"),
    logOutputs: get<string[]>("log-outputs"),
    autoCompactionMode: get<"periodic" | "revision">("auto-compaction-mode"),
    autoCompactionRetention: get<string>("auto-compaction-retention"),
    authToken: get<string>("auth-token"),
    authTokenTtl: get<number>("auth-token-ttl"),
    bcryptCost: get<number>("bcrypt-cost"),
    initialCorruptCheck: get<boolean>("experimental-initial-corrupt-check"),
    corruptCheckTimeMs: get<number>("experimental-corrupt-check-time"),
    compactionBatchLimit: get<number>("experimental-compaction-batch-limit"),
    warningApplyDurationMs: get<number>("experimental-warning-apply-duration"),
    cors: get<string[]>("cors"),
    hostWhitelist: get<string[]>("host-whitelist"),
    enableUi: get<boolean>("enable-ui"),
  };
  const error = validate(config);
  if (error) return { kind: "invalid", error };
  return { kind: "run", config, warnings };
}
