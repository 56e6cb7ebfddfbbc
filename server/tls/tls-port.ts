/**
 * A TLS port: `tls.createServer` bound to an `https://host:port` listen URL, whose connections are
 * handed on only after the handshake and etcd's certificate checks (server/tls/client-cert-checks.ts)
 * succeeded, as etcd's tlsListener does (pkg/transport/listener_tls.go acceptLoop). A failed
 * handshake or check closes the connection and is reported through `onRejected` with etcd's
 * "rejected connection" fields (embed/config_logging.go logTLSHandshakeFailure); the port goes on
 * serving other connections.
 */
import { statSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { FIRST_BYTES_TIMEOUT_MS, listenOnUrl } from "../http/cleartext-port.ts";
import { checkClientCertificate, subjectAltNames } from "./client-cert-checks.ts";
import { recordClientIdentity } from "./client-identity.ts";
import { serverTlsOptions } from "./server-options.ts";
import type { TlsInfo } from "./tls-info.ts";

/** What etcd logs for a refused TLS connection (`rejected connection`). */
export interface RejectedConnection {
  "remote-addr": string;
  "server-name": string;
  /** IP SANs of the client certificate, when one was presented. */
  "ip-addresses"?: string[];
  /** DNS SANs of the client certificate, when one was presented. */
  "dns-names"?: string[];
  error: string;
}

/** Options of {@link bindTlsPort}. */
export interface TlsPortOptions {
  /** The side's TLS settings (certificate, key, CA, CRL, ciphers, allowed CN/hostname). */
  info: TlsInfo;
  /** Check the client certificate's SANs against the remote address (etcd does on peer ports only). */
  checkSan: boolean;
  /** Gets every connection that passed the handshake and the checks. */
  onSocket(socket: tls.TLSSocket): void;
  /** Gets every refused connection. */
  onRejected(fields: RejectedConnection): void;
  /** Told when changed certificate/key/CA/CRL files could not be loaded (the previous ones stay in use). */
  onReloadFailed?(error: string): void;
  /** Gets every accepted TCP socket before its handshake (bindTlsPort only; e.g. to destroy it on close). */
  onTcpSocket?(socket: net.Socket): void;
  /**
   * How long a handshake may take from the moment the socket is handed over, ms (default
   * {@link FIRST_BYTES_TIMEOUT_MS}, grpc-go's connection timeout); a slower one (a truncated
   * ClientHello, a slowloris) is closed and reported as rejected with Go's `i/o timeout`.
   */
  handshakeTimeoutMs?: number;
}

/** OpenSSL/BoringSSL handshake errors in Go's words (what etcd logs for the same failure). */
const GO_HANDSHAKE_ERRORS: Record<string, string> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: "tls: client didn't provide a certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls: failed to verify client certificate: x509: certificate signed by unknown authority",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls: failed to verify client certificate: x509: certificate signed by unknown authority",
  SELF_SIGNED_CERT_IN_CHAIN: "tls: failed to verify client certificate: x509: certificate signed by unknown authority",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls: failed to verify client certificate: x509: certificate signed by unknown authority",
  CERT_HAS_EXPIRED: "tls: failed to verify client certificate: x509: certificate has expired or is not yet valid",
  CERT_NOT_YET_VALID: "tls: failed to verify client certificate: x509: certificate has expired or is not yet valid",
  ERR_SSL_HTTP_REQUEST: "tls: first record does not look like a TLS handshake",
  ERR_SSL_WRONG_VERSION_NUMBER: "tls: first record does not look like a TLS handshake",
  ERR_SSL_NO_SHARED_CIPHER: "tls: no cipher suite supported by both client and server",
};

/** Go's RFC 3339 UTC time without fractions, as x509 errors print it. */
function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

function handshakeError(e: Error & { code?: string }, cert: tls.PeerCertificate | undefined): string {
  if (e.code === "CERT_REVOKED" && cert?.serialNumber) return `transport: certificate serial ${cert.serialNumber.toLowerCase()} revoked`;
  const text = GO_HANDSHAKE_ERRORS[e.code ?? ""] ?? e.message;
  if ((e.code === "CERT_HAS_EXPIRED" || e.code === "CERT_NOT_YET_VALID") && cert?.valid_to) {
    const expired = e.code === "CERT_HAS_EXPIRED";
    const limit = Date.parse(expired ? cert.valid_to : cert.valid_from);
    if (Number.isFinite(limit)) return `${text}: current time ${goTime(Date.now())} is ${expired ? "after" : "before"} ${goTime(limit)}`;
  }
  return text;
}

/** Go's `ip:port` (`[ip]:port` for IPv6; IPv4-mapped addresses as IPv4). */
function goAddr(address: string | undefined, port: number | undefined): string {
  const ip = (address ?? "").replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  return ip.includes(":") ? `[${ip}]:${port ?? 0}` : `${ip}:${port ?? 0}`;
}

function remoteAddr(socket: net.Socket | undefined): string {
  return goAddr(socket?.remoteAddress, socket?.remotePort);
}

function localAddr(socket: net.Socket | undefined): string {
  return goAddr(socket?.localAddress, socket?.localPort);
}

/**
 * etcd's fields for a refused connection; the certificate's SANs only for refusals after a
 * completed handshake (`withSans`: CRL, CN, hostname and SAN checks), as etcd logs them.
 */
function rejection(socket: tls.TLSSocket | undefined, error: string, withSans = true): RejectedConnection {
  let cert: tls.PeerCertificate | undefined;
  try {
    cert = socket?.getPeerCertificate(false);
  } catch {
    cert = undefined;
  }
  const fields: RejectedConnection = {
    "remote-addr": remoteAddr(socket),
    "server-name": ((socket as { servername?: string | false } | undefined)?.servername || "") as string,
    error,
  };
  if (withSans && cert?.raw) {
    const { ips, dnsNames } = subjectAltNames(cert);
    fields["ip-addresses"] = ips;
    fields["dns-names"] = dnsNames;
  }
  return fields;
}

/** The files a TlsInfo reads, with size and mtime: a changed stamp means the files were replaced. */
function filesStamp(info: TlsInfo): string {
  return [info.certFile, info.keyFile, info.trustedCaFile, info.crlFile]
    .filter((f) => f !== "")
    .map((f) => {
      try {
        const st = statSync(f);
        return `${f}:${st.size}:${st.mtimeMs}`;
      } catch {
        return `${f}:missing`;
      }
    })
    .join("|");
}

/** A TLS server that handshakes sockets handed to it (see {@link createTlsAcceptor}). */
export interface TlsAcceptor {
  /** The tls.Server (not listening); its handshakes and checks run on sockets given to `accept`. */
  server: tls.Server;
  /** Starts the TLS handshake on a freshly accepted TCP socket (nothing read from it yet, or put back). */
  accept(socket: net.Socket): void;
}

/**
 * A TLS server for sockets accepted elsewhere (a TLS port, or a port shared with cleartext HTTP,
 * see server/http/listener.ts): handshake, then etcd's checks, then `opts.onSocket`. Like etcd,
 * which loads the certificate on every handshake and the CRL on every connection
 * (pkg/transport/listener.go GetCertificate, listener_tls.go checkCRL), the certificate, key, CA
 * and CRL files are read again before a connection's handshake when they changed on disk, so a
 * rotated certificate or an updated CRL applies without a restart (if the new files cannot be
 * loaded, `opts.onReloadFailed` is told and the previous ones stay in use). Throws the option
 * errors of serverTlsOptions (missing files, bad cipher suites, CN and hostname both set).
 */
export function createTlsAcceptor(opts: TlsPortOptions): TlsAcceptor {
  let stamp = filesStamp(opts.info);
  const server = tls.createServer({ ...serverTlsOptions(opts.info), handshakeTimeout: opts.handshakeTimeoutMs ?? FIRST_BYTES_TIMEOUT_MS });
  server.on("tlsClientError", (e: Error & { code?: string }, socket: tls.TLSSocket) => {
    if (e.code === "ERR_TLS_HANDSHAKE_TIMEOUT") {
      // Go's deadline error for the same (net.OpError of a read past the deadline).
      opts.onRejected(rejection(socket, `read tcp ${localAddr(socket)}->${remoteAddr(socket)}: i/o timeout`, false));
      socket?.destroy();
      return;
    }
    let cert: tls.PeerCertificate | undefined;
    try {
      cert = socket?.getPeerCertificate(false);
    } catch {
      cert = undefined;
    }
    opts.onRejected(rejection(socket, handshakeError(e, cert), e.code === "CERT_REVOKED"));
    socket?.destroy();
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    socket.on("error", () => {}); // resets are normal; the HTTP servers see the close
    void checkClientCertificate(socket, opts.info, { checkSan: opts.checkSan }).then(
      (error) => {
        if (error !== undefined) {
          opts.onRejected(rejection(socket, error));
          socket.destroy();
          return;
        }
        recordClientIdentity(socket);
        opts.onSocket(socket);
      },
      (e) => {
        opts.onRejected(rejection(socket, String(e)));
        socket.destroy();
      },
    );
  });
  const accept = (socket: net.Socket) => {
    const now = filesStamp(opts.info);
    if (now !== stamp) {
      try {
        server.setSecureContext(serverTlsOptions(opts.info));
        stamp = now;
      } catch (e) {
        opts.onReloadFailed?.((e as Error).message);
      }
    }
    server.emit("connection", socket);
  };
  return { server, accept };
}

/**
 * Binds `url` (`https://host:port`; `localhost` binds 127.0.0.1, port 0 a free port) with the
 * TLS settings of `opts.info` and resolves with the listening server and `https://<ip>:<port>`.
 * Rejects with the option errors of serverTlsOptions (missing files, bad cipher suites) or Go's
 * listen error.
 */
export async function bindTlsPort(url: string, opts: TlsPortOptions): Promise<{ server: net.Server; url: string }> {
  const acceptor = createTlsAcceptor(opts);
  const server = net.createServer((socket) => {
    opts.onTcpSocket?.(socket);
    acceptor.accept(socket);
  });
  return { server, url: await listenOnUrl(server, url) };
}
