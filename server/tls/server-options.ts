/**
 * node:tls server options from a TlsInfo, as etcd's TLSInfo.ServerConfig
 * (pkg/transport/listener.go): TLS 1.2 at least; a client certificate signed by the trusted CA is
 * required when `--client-cert-auth` is on *or* a trusted CA file is given (etcd sets
 * RequireAndVerifyClientCert in both cases); the CRL and the cipher suites apply in the handshake.
 * ALPN offers `h2` (gRPC) and `http/1.1` (gateway, `/health`, gRPC-Web, Connect).
 */
import { readFileSync } from "node:fs";
import type * as tls from "node:tls";
import { opensslCiphers } from "./cipher-suites.ts";
import type { TlsInfo } from "./tls-info.ts";

/** Reads a file like Go's os.ReadFile; throws `open <path>: no such file or directory` (Go's text) when missing. */
export function readTlsFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
    throw new Error(`open ${path}: ${reason}`);
  }
}

/** A CRL file's content as PEM (node:tls takes PEM only; Go's x509.ParseCRL takes PEM or DER). */
export function crlAsPem(bytes: Buffer): string {
  const text = bytes.toString("latin1");
  if (text.includes("-----BEGIN X509 CRL-----")) return text;
  const b64 = bytes.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
}

/** True when the server asks for, and requires, a verified client certificate (etcd: ClientCertAuth or a trusted CA). */
export function requiresClientCert(info: TlsInfo): boolean {
  return info.clientCertAuth || info.trustedCaFile !== "";
}

/**
 * The options for `tls.createServer`. Throws `KeyFile and CertFile must both be present[key: K, cert: C]`
 * when one is missing, etcd's `AllowedCN and AllowedHostname are mutually exclusive (...)`, `open <path>: no such file or directory` for a missing file, and
 * `unexpected TLS cipher suite "<name>"` for a bad `--cipher-suites` entry.
 */
export function serverTlsOptions(info: TlsInfo): tls.TlsOptions {
  if (info.keyFile === "" || info.certFile === "") {
    throw new Error(`KeyFile and CertFile must both be present[key: ${info.keyFile}, cert: ${info.certFile}]`);
  }
  if (info.allowedCn !== "" && info.allowedHostname !== "") {
    throw new Error(`AllowedCN and AllowedHostname are mutually exclusive (cn=${JSON.stringify(info.allowedCn)}, hostname=${JSON.stringify(info.allowedHostname)})`);
  }
  const verify = requiresClientCert(info);
  return {
    cert: readTlsFile(info.certFile),
    key: readTlsFile(info.keyFile),
    ca: info.trustedCaFile !== "" ? readTlsFile(info.trustedCaFile) : undefined,
    crl: info.crlFile !== "" ? crlAsPem(readTlsFile(info.crlFile)) : undefined,
    requestCert: verify,
    rejectUnauthorized: verify,
    ciphers: opensslCiphers(info.cipherSuites),
    minVersion: "TLSv1.2",
    ALPNProtocols: ["h2", "http/1.1"],
  };
}
