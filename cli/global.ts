/**
 * etcdctl's global flags (`ctlv3/ctl.go`) and their `ETCDCTL_*` environment variables
 * (`pkg/flags.SetPflagsFromEnv`): a flag not given on the command line takes the value of
 * `ETCDCTL_<NAME>` (upper case, `-` -> `_`) when non-empty; an invalid value there is ignored.
 * A variable shadowed by a command-line flag is fatal; unknown `ETCDCTL_*` variables are warned about.
 */
import { CtlError, ExitCode } from "./errors.ts";
import { parseFlagValue, type FlagSet, type FlagSpec } from "./flags.ts";
import type { Output } from "./output.ts";

/** Global flags of etcdctl 3.4 that this CLI implements (all but DNS discovery: `--discovery-srv*`, `--insecure-discovery`). */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "endpoints", type: "stringSlice", default: ["127.0.0.1:2379"], description: "gRPC endpoints" },
  { name: "debug", type: "bool", default: false, description: "enable client-side debug logging" },
  {
    name: "write-out",
    short: "w",
    type: "string",
    default: "simple",
    description: "set the output format (fields, json, protobuf, simple, table)",
  },
  { name: "hex", type: "bool", default: false, description: "print byte strings as hex encoded strings" },
  { name: "dial-timeout", type: "duration", default: 2000, description: "dial timeout for client connections" },
  {
    name: "command-timeout",
    type: "duration",
    default: 5000,
    description: "timeout for short running command (excluding dial timeout)",
  },
  { name: "keepalive-time", type: "duration", default: 2000, description: "keepalive time for client connections" },
  {
    name: "keepalive-timeout",
    type: "duration",
    default: 6000,
    description: "keepalive timeout for client connections",
  },
  {
    name: "insecure-transport",
    type: "bool",
    default: true,
    description: "disable transport security for client connections",
  },
  {
    name: "insecure-skip-tls-verify",
    type: "bool",
    default: false,
    description: "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)",
  },
  { name: "cert", type: "string", default: "", description: "identify secure client using this TLS certificate file" },
  { name: "key", type: "string", default: "", description: "identify secure client using this TLS key file" },
  {
    name: "cacert",
    type: "string",
    default: "",
    description: "verify certificates of TLS-enabled secure servers using this CA bundle",
  },
  {
    name: "user",
    type: "string",
    default: "",
    description: "username[:password] for authentication (prompt if password is not supplied)",
  },
  {
    name: "password",
    type: "string",
    default: "",
    description: "password for authentication (if this option is used, --user option shouldn't include password)",
  },
];

/** The TLS flags as given (file paths, empty when not set). */
export interface TlsFlags {
  /** `--cert`: client certificate file (PEM). */
  cert: string;
  /** `--key`: client key file (PEM). */
  key: string;
  /** `--cacert`: CA bundle that verifies servers (PEM). */
  cacert: string;
  /** `--insecure-transport` (default true): without TLS files, scheme-less endpoints stay plaintext. */
  insecureTransport: boolean;
  /** `--insecure-skip-tls-verify`: do not verify the server certificate (only when TLS is configured). */
  insecureSkipVerify: boolean;
}

/** Effective global settings after command line and environment. Durations in milliseconds. */
export interface GlobalConfig {
  endpoints: string[];
  writeOut: string;
  hex: boolean;
  dialTimeoutMs: number;
  commandTimeoutMs: number;
  keepAliveTimeMs: number;
  keepAliveTimeoutMs: number;
  tlsFlags: TlsFlags;
  /** `--user`: `name` or `name:password`; empty for no authentication. */
  user: string;
  /** `--password`: when set, `--user` is the whole user name. */
  password: string;
}

/** `ETCDCTL_DIAL_TIMEOUT` for `dial-timeout` (pkg/flags `FlagToEnv`). */
export function flagToEnv(name: string): string {
  return "ETCDCTL_" + name.replaceAll("-", "_").toUpperCase();
}

/** capnslog's line prefix: local time `2006-01-02 15:04:05.000000`, level letter, package. */
function capnslogLine(level: "W" | "C", message: string): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const ts =
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
  return `${ts} ${level} | pkg/flags: ${message}`;
}

/**
 * Applies `ETCDCTL_*` variables to the flags that were not set on the command line.
 * @param inherited the flags that may come from the environment (globals plus group flags)
 * @param env the process environment (`ETCDCTL_API` is ignored, as etcdctl unsets it at start)
 * @throws CtlError exit 1 with capnslog's `conflicting environment variable` fatal line
 */
export function applyEnv(flags: FlagSet, inherited: FlagSpec[], env: Record<string, string | undefined>, out: Output): void {
  const used = new Set<string>();
  const shadowed = new Set<string>();
  for (const spec of [...inherited].sort((a, b) => a.name.localeCompare(b.name))) {
    const key = flagToEnv(spec.name);
    if (flags.changed.has(spec.name)) {
      shadowed.add(key);
      continue;
    }
    const text = env[key];
    if (!text) continue;
    used.add(key);
    try {
      flags.setQuietly(spec.name, parseFlagValue(spec, text));
    } catch {
      // pkg/flags returns the error, and etcdctl ignores it: the flag keeps its value.
    }
  }
  for (const [key, value] of Object.entries(env)) {
    if (used.has(key) || key === "ETCDCTL_API") continue;
    if (shadowed.has(key)) {
      const msg = `conflicting environment variable "${key}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`;
      throw new CtlError(ExitCode.Error, capnslogLine("C", msg), true);
    }
    if (key.startsWith("ETCDCTL_")) out.eprintln(capnslogLine("W", `unrecognized environment variable ${key}=${value}`));
  }
}

/** Reads the effective global settings from flags (after {@link applyEnv}). Endpoints are trimmed. */
export function globalConfig(flags: FlagSet): GlobalConfig {
  return {
    endpoints: flags.strings("endpoints").map((e) => e.trim()),
    writeOut: flags.string("write-out"),
    hex: flags.bool("hex"),
    dialTimeoutMs: flags.durationMs("dial-timeout"),
    commandTimeoutMs: flags.durationMs("command-timeout"),
    keepAliveTimeMs: flags.durationMs("keepalive-time"),
    keepAliveTimeoutMs: flags.durationMs("keepalive-timeout"),
    tlsFlags: {
      cert: flags.string("cert"),
      key: flags.string("key"),
      cacert: flags.string("cacert"),
      insecureTransport: flags.bool("insecure-transport"),
      insecureSkipVerify: flags.bool("insecure-skip-tls-verify"),
    },
    user: flags.string("user"),
    password: flags.string("password"),
  };
}
