/**
 * `--config-file` (or `ETCD_CONFIG_FILE`): etcd 3.4's YAML configuration file
 * (embed/config.go configFromFile, etcdmain/config.go; keys as in etcd's `etcd.conf.yml.sample`).
 * When a file is given, every other flag and `ETCD_*` variable is ignored, as in etcd.
 *
 * Keys are the flag names (`name`, `data-dir`, `listen-client-urls`, `initial-cluster`,
 * `auto-compaction-retention`, `log-outputs`, ...); TLS settings are nested:
 *
 * ```yaml
 * client-transport-security:   # → --cert-file --key-file --client-cert-auth --trusted-ca-file --auto-tls
 *   cert-file: /etc/etcd/server.crt
 * peer-transport-security:     # → --peer-cert-file ... --peer-auto-tls
 *   client-cert-auth: true
 * ```
 * (plus etcd 3.5's `allowed-cn`, `allowed-hostname`, `skip-client-san-verification` there).
 *
 * Values must have the type of etcd's Go field, as Go's JSON decoder demands after ghodss/yaml
 * turned the YAML into JSON: URL lists are one comma-separated string, `log-outputs` and
 * `cipher-suites` are lists, `auto-compaction-retention` is a string (`"1"`, `"1h"`), numbers are
 * integers (unsigned where etcd's are). A wrong type fails with Go's error text, e.g.
 * `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct
 * field configYAML.heartbeat-interval of type uint`; a YAML syntax error with
 * `error converting YAML to JSON: yaml: <reason>`; a missing file with `open <path>: no such file
 * or directory`. YAML 1.1 scalars are read as Go's yaml.v2 reads them (`yes` is true).
 *
 * Keys etcd does not know are ignored, as etcd 3.4 ignores them, but each is reported in a
 * warning; keys etcd knows and this server does not support (e.g. `enable-pprof`, `proxy`) are
 * ignored with a warning too. Defaults are etcd's `NewConfig()`: unlike on the command line,
 * `listen-client-urls` without `advertise-client-urls` keeps the default advertise URL and
 * `initial-cluster` stays `default=http://localhost:2380` whatever the name.
 */
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { flagKind, parseConfig, parseUrls, type ParseOutcome } from "./config.ts";
import { goDurationString } from "../cli/go/duration.ts";

/** etcd's top-level keys this server does not implement (embed/config.go, etcdmain/config.go json tags). */
const ETCD_KEYS_NOT_SUPPORTED = new Set([
  "backend-batch-interval", "backend-batch-limit", "debug",
  "enable-grpc-gateway",
  "enable-pprof", "experimental-backend-bbolt-freelist-type", "experimental-enable-lease-checkpoint", "experimental-enable-lease-checkpoint-persist",
  "experimental-enable-v2v3",
  "experimental-watch-progress-notify-interval", "grpc-keepalive-interval", "grpc-keepalive-min-time",
  "grpc-keepalive-timeout", "initial-election-tick-advance", "log-output", "log-package-levels",
  "max-concurrent-streams", "max-snapshots", "max-wals", "pre-vote", "proxy", "proxy-dial-timeout", "proxy-failure-wait",
  "proxy-read-timeout", "proxy-refresh-interval", "proxy-write-timeout", "unsafe-no-fsync", "wal-dir",
]);

/** Keys that are sections, not flags. */
const SECTIONS: Record<string, Record<string, string>> = {
  "client-transport-security": {
    "cert-file": "cert-file",
    "key-file": "key-file",
    "client-cert-auth": "client-cert-auth",
    "trusted-ca-file": "trusted-ca-file",
    "auto-tls": "auto-tls",
    "allowed-hostname": "client-cert-allowed-hostname",
  },
  "peer-transport-security": {
    "cert-file": "peer-cert-file",
    "key-file": "peer-key-file",
    "client-cert-auth": "peer-client-cert-auth",
    "trusted-ca-file": "peer-trusted-ca-file",
    "auto-tls": "peer-auto-tls",
    "allowed-cn": "peer-cert-allowed-cn",
    "allowed-hostname": "peer-cert-allowed-hostname",
    "skip-client-san-verification": "experimental-peer-skip-client-san-verification",
  },
};

/** Flags that exist only on the command line. */
const NOT_IN_FILE = new Set(["config-file", "version"]);

/** Go types of etcd's numeric fields, for Go's error text (others: int). */
const GO_NUMBER_TYPES: Record<string, string> = {
  "snapshot-count": "uint64",
  "quota-backend-bytes": "int64",
  "heartbeat-interval": "uint",
  "election-timeout": "uint",
  "max-txn-ops": "uint",
  "max-request-bytes": "uint",
  "self-signed-cert-validity": "uint",
};

class UnmarshalError extends Error {}

/** Go's JSON name of a decoded YAML value's kind, as json.UnmarshalTypeError prints it. */
function jsonKind(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number" || typeof v === "bigint") return "number";
  if (Array.isArray(v)) return "array";
  return "object";
}

/**
 * Converts the value of YAML key `key` (flag `flag`) to the flag's text, checking the Go type as
 * encoding/json would. `struct` and `path` name the field in Go's error.
 */
function flagText(flag: string, v: unknown, struct: string, path: string): string {
  const kind = flagKind(flag)!;
  const fail = (goType: string, what = jsonKind(v)) => {
    throw new UnmarshalError(
      `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${what} into Go struct field ${struct}.${path} of type ${goType}`,
    );
  };
  switch (kind) {
    case "bool":
      if (typeof v !== "boolean") fail("bool");
      return String(v);
    case "uint":
    case "int": {
      const goType = GO_NUMBER_TYPES[flag] ?? (kind === "uint" ? "uint" : "int");
      if (typeof v !== "number" && typeof v !== "bigint") fail(goType);
      const n = Number(v);
      if (!Number.isInteger(n) || (kind === "uint" && n < 0)) fail(goType, `number ${String(v)}`);
      return String(v);
    }
    case "urls": {
      if (typeof v !== "string") fail("string");
      try {
        parseUrls(v as string);
      } catch (e) {
        // etcd's configFromFile prints this and exits 1 (it names advertise-client-urls "advertise-peer-urls").
        const name = flag === "advertise-client-urls" ? "advertise-peer-urls" : flag;
        throw new UnmarshalError(`unexpected error setting up ${name}: ${(e as Error).message}`);
      }
      return v as string;
    }
    case "choice":
      if (typeof v !== "string") fail("string");
      if (flag === "initial-cluster-state" && v !== "new" && v !== "existing") throw new UnmarshalError(`unexpected clusterState ${JSON.stringify(v)}`);
      return v as string;
    case "duration":
      // A Go time.Duration field: JSON gives it integer nanoseconds.
      if (typeof v !== "number" || !Number.isInteger(v)) fail("time.Duration", typeof v === "number" ? `number ${v}` : jsonKind(v));
      return goDurationString(BigInt(v as number));
    case "strings":
      // etcd's YAML has host-whitelist as one comma-separated string (configYAML HostWhitelistJSON).
      if (flag === "host-whitelist") {
        if (typeof v !== "string") fail("string");
        return v as string;
      }
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail("[]string");
      return (v as string[]).join(",");
    default:
      if (typeof v !== "string") fail("string");
      return v as string;
  }
}

/** The YAML document as plain data, or the error etcd prints for a syntax error. */
function readYaml(text: string): unknown {
  const doc = parseDocument(text, { version: "1.1", uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    throw new UnmarshalError(`error converting YAML to JSON: yaml: ${line ? `line ${line}: ` : ""}${err.message.split("\n")[0]}`);
  }
  return doc.toJS({ maxAliasCount: 100 }) ?? {};
}

/**
 * Reads the configuration file at `path` and parses it like the command line would be parsed
 * from the same settings (server/config.ts `parseConfig`, without environment variables).
 * Returns `invalid` with etcd's error for an unreadable file, bad YAML, a value of the wrong type
 * or a value etcd's validation refuses; `run` with warnings for ignored keys and an info notice
 * that flags and variables are ignored.
 */
export function parseConfigFile(path: string, read: (path: string) => string = (p) => readFileSync(p, "utf8")): ParseOutcome {
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    return { kind: "invalid", error: `open ${path}: ${reason}` };
  }
  const argv: string[] = [];
  const warnings: string[] = [];
  try {
    const data = readYaml(text);
    if (Array.isArray(data) || typeof data !== "object") {
      throw new UnmarshalError(`error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(data)} into Go value of type embed.configYAML`);
    }
    const entries = Object.entries(data as Record<string, unknown>);
    for (const [key, value] of entries) {
      if (value === null || value === undefined) continue; // JSON null leaves the default, as in Go
      const section = SECTIONS[key];
      if (section) {
        if (typeof value !== "object" || Array.isArray(value)) {
          throw new UnmarshalError(`error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(value)} into Go struct field configYAML.${key} of type embed.securityConfig`);
        }
        for (const [sub, v] of Object.entries(value as Record<string, unknown>)) {
          const flag = section[sub];
          if (!flag) {
            warnings.push(`ignored unknown configuration key ${JSON.stringify(`${key}.${sub}`)}`);
            continue;
          }
          if (v !== null && v !== undefined) argv.push(`--${flag}=${flagText(flag, v, "securityConfig", `${key}.${sub}`)}`);
        }
        continue;
      }
      if (flagKind(key) !== undefined && !NOT_IN_FILE.has(key)) {
        if (flagKind(key) === "urls" && value === "") continue; // etcd keeps the default for an empty URL list
        argv.push(`--${key}=${flagText(key, value, "configYAML", key)}`);
      } else if (ETCD_KEYS_NOT_SUPPORTED.has(key)) {
        warnings.push(`ignored configuration key ${JSON.stringify(key)}: not supported by this server`);
      } else {
        warnings.push(`ignored unknown configuration key ${JSON.stringify(key)}`);
      }
    }
    const has = (k: string) => entries.some(([key, v]) => key === k && v !== null && v !== undefined);
    // etcd's NewConfig() defaults, which the file mode keeps (etcdmain configFromCmdLine adjusts them only for flags).
    if (!has("initial-cluster")) argv.push("--initial-cluster=default=http://localhost:2380");
    if (has("listen-client-urls") && !has("advertise-client-urls")) argv.push("--advertise-client-urls=http://localhost:2379");
  } catch (e) {
    if (e instanceof UnmarshalError) return { kind: "invalid", error: e.message };
    throw e;
  }
  const outcome = parseConfig(argv, {});
  if (outcome.kind === "exit") {
    // A value the flag parser refused (bad URL, bad choice): etcd fails on it while loading the file.
    const reason = (outcome.stderr ?? "").split("\n")[0]!.replace(/ for flag -([a-z-]+): /, " for $1: ");
    return { kind: "invalid", error: reason };
  }
  if (outcome.kind === "run") {
    outcome.warnings.unshift(...warnings);
    outcome.notices = [
      ...(outcome.notices ?? []),
      { msg: "loaded server configuration, other configuration command line flags and environment variables will be ignored if provided", fields: { path } },
    ];
  }
  return outcome;
}
