/**
 * Transport security of etcdctl 3.4 (`ctlv3/command/global.go` `newClientCfg`, etcd's
 * `pkg/transport.TLSInfo.ClientConfig` and clientv3's `processCreds`), as node:tls options for
 * connect-node's HTTP/2 sessions (`http2.connect(url, options)`, ALPN `h2`; Bun and Deno alike).
 *
 * Which endpoints use TLS (clientv3 3.4):
 * - `http://host:port`: never (plaintext HTTP/2), whatever the flags say;
 * - `https://host:port`: always; with the flags' configuration when there is one, else a default
 *   one (system roots, verified; `--insecure-skip-tls-verify` alone does not apply here);
 * - `host:port`: TLS when `--cacert`, `--cert` or `--key` is given or `--insecure-transport=false`.
 * The server name checked is the endpoint's host (IP SANs for IP addresses).
 *
 * Under Deno a server refusing our client certificate (mTLS without `--cert`) would hang
 * connect-node's session manager; cli/h2-session.ts explains and avoids it.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import { CtlError, ExitCode } from "./errors.ts";
import type { FlagSet } from "./flags.ts";
import type { TlsFlags } from "./global.ts";

/**
 * The client TLS configuration built from the flags (clientv3's `Config.TLS`), files already read.
 * `undefined` where etcdctl has none.
 */
export interface ClientTls {
  /** PEM of `--cacert`; unset: the runtime's default roots. */
  ca?: string;
  /** PEM of `--cert` and `--key` (both or neither). */
  cert?: string;
  key?: string;
  /** False with `--insecure-skip-tls-verify`. */
  rejectUnauthorized: boolean;
}

/**
 * etcdctl's `keyAndCertFromCmd`: `--cert`, `--key` and `--cacert` given with an empty value.
 * @throws CtlError exit 128 `empty string is passed to --cert option` (or `--key`, `--cacert`)
 */
export function checkTlsFlagsNotEmpty(flags: FlagSet): void {
  for (const name of ["cert", "key", "cacert"]) {
    if (flags.string(name) === "" && flags.changed.has(name)) {
      throw new CtlError(ExitCode.BadArgs, `empty string is passed to --${name} option`);
    }
  }
}

/** Go's `os.ReadFile` error text for a Node file error, e.g. `open /x: no such file or directory`. */
function goFileError(path: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  const reasons: Record<string, string> = {
    ENOENT: `open ${path}: no such file or directory`,
    EACCES: `open ${path}: permission denied`,
    EISDIR: `read ${path}: is a directory`,
  };
  return reasons[code ?? ""] ?? `open ${path}: ${(e as Error).message}`;
}

function readPem(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new CtlError(ExitCode.BadArgs, goFileError(path, e));
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/** The PEM block types in `text`, in order (`CERTIFICATE`, `EC PRIVATE KEY`...). */
function pemTypes(text: string): string[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => m[1]!);
}

/**
 * Go's `tls.X509KeyPair` checks of a certificate and key pair, with its error texts:
 * `tls: failed to find any PEM data in certificate input`, `... in key input`, `tls: failed to find
 * certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched`,
 * `tls: found a certificate rather than a key in the PEM for the private key`,
 * `tls: private key does not match public key`.
 */
function checkKeyPair(certPem: string, keyPem: string): void {
  const certTypes = pemTypes(certPem);
  if (!certTypes.includes("CERTIFICATE")) {
    throw new Error(
      certTypes.some((t) => t.endsWith("PRIVATE KEY"))
        ? "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched"
        : "tls: failed to find any PEM data in certificate input",
    );
  }
  const keyTypes = pemTypes(keyPem);
  if (!keyTypes.some((t) => t === "PRIVATE KEY" || t.endsWith(" PRIVATE KEY"))) {
    throw new Error(
      keyTypes.includes("CERTIFICATE")
        ? "tls: found a certificate rather than a key in the PEM for the private key"
        : "tls: failed to find any PEM data in key input",
    );
  }
  let matches: boolean;
  try {
    matches = new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    throw new Error("tls: failed to parse private key");
  }
  if (!matches) throw new Error("tls: private key does not match public key");
}

/**
 * The TLS configuration etcdctl builds from its flags (`newClientCfg`), reading the files.
 * @returns undefined when no TLS flag is set and `--insecure-transport` is true (the default)
 * @throws CtlError exit 128 with Go's texts: `KeyFile and CertFile must both be present[key: K, cert: C]`,
 *   `open F: no such file or directory`, the `tls: ...` key pair errors of {@link checkKeyPair}
 */
export function clientTlsFromFlags(f: TlsFlags): ClientTls | undefined {
  let tls: ClientTls | undefined;
  if (f.cert !== "" || f.key !== "" || f.cacert !== "") {
    tls = { rejectUnauthorized: true };
    if (f.cert !== "" || f.key !== "") {
      if (f.cert === "" || f.key === "") {
        throw new CtlError(ExitCode.BadArgs, `KeyFile and CertFile must both be present[key: ${f.key}, cert: ${f.cert}]`);
      }
      const cert = readPem(f.cert);
      const key = readPem(f.key);
      try {
        checkKeyPair(cert, key);
      } catch (e) {
        throw new CtlError(ExitCode.BadArgs, (e as Error).message);
      }
      tls.cert = cert;
      tls.key = key;
    }
    if (f.cacert !== "") tls.ca = readPem(f.cacert);
  }
  if (!tls && !f.insecureTransport) tls = { rejectUnauthorized: true };
  if (tls && f.insecureSkipVerify) tls.rejectUnauthorized = false;
  return tls;
}

/** How to reach one endpoint: the URL for connect-node and, for TLS, the node:http2 options. */
export interface EndpointTarget {
  /** `http://host:port` or `https://host:port`. */
  baseUrl: string;
  /** Options for `http2.connect` when TLS is used. */
  nodeOptions?: SecureClientSessionOptions;
}

/** clientv3's choice of transport security for an endpoint (see the module doc). */
export function endpointTarget(endpoint: string, tls: ClientTls | undefined): EndpointTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(endpoint)?.[1]?.toLowerCase();
  const hostPort = scheme === undefined ? endpoint : endpoint.slice(scheme.length + 3);
  const secure = scheme === "https" || (scheme === undefined && tls !== undefined);
  if (!secure) return { baseUrl: scheme === undefined ? `http://${endpoint}` : endpoint };
  const t = tls ?? { rejectUnauthorized: true };
  const nodeOptions: SecureClientSessionOptions = { rejectUnauthorized: t.rejectUnauthorized, ALPNProtocols: ["h2"] };
  if (t.ca !== undefined) nodeOptions.ca = t.ca;
  if (t.cert !== undefined) nodeOptions.cert = t.cert;
  if (t.key !== undefined) nodeOptions.key = t.key;
  return { baseUrl: `https://${hostPort}`, nodeOptions };
}
