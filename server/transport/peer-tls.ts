/**
 * How this member dials other members over `https://` peer URLs, as etcd's
 * TLSInfo.ClientConfig for rafthttp (pkg/transport/listener.go): the peer certificate and key
 * are presented as client certificate, servers are verified against `--peer-trusted-ca-file`
 * (the system roots without one), and a `--peer-auto-tls` certificate makes it skip verifying
 * (InsecureSkipVerify). Used by the Raft streams and snapshots (server/transport/remote-peer.ts)
 * and by the peer HTTP calls (lease forwarding, promote forwarding, joining).
 */
import type * as tls from "node:tls";
import { readTlsFile } from "../tls/server-options.ts";
import { isTlsInfoEmpty, type TlsInfo } from "../tls/tls-info.ts";

/** PEM contents and verification switch for dialing peers; undefined means no TLS settings. */
export interface PeerClientTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** False for self-signed (`--peer-auto-tls`) certificates: do not verify servers. */
  rejectUnauthorized: boolean;
}

/**
 * Reads the files of `info` once. Returns undefined when `info` sets neither certificate nor
 * trusted CA (plain defaults then apply to `https://` peers). Throws `open <path>: no such file or
 * directory` for a missing file.
 */
export function peerClientTls(info: TlsInfo | undefined): PeerClientTls | undefined {
  if (!info || (isTlsInfoEmpty(info) && info.trustedCaFile === "")) return undefined;
  const read = (path: string) => (path === "" ? undefined : readTlsFile(path).toString("utf8"));
  return { ca: read(info.trustedCaFile), cert: read(info.certFile), key: read(info.keyFile), rejectUnauthorized: !info.selfCert };
}

/** node:tls / node:http2 connect options for `tlsSettings` (undefined stays undefined). */
export function peerConnectOptions(tlsSettings: PeerClientTls | undefined): tls.ConnectionOptions | undefined {
  if (!tlsSettings) return undefined;
  return { ...tlsSettings, ALPNProtocols: ["h2"] };
}

/**
 * `fetch` for peer HTTP calls: over `https://` URLs it presents and verifies as
 * {@link PeerClientTls} says (Bun's `tls` fetch option); `http://` URLs are unaffected.
 */
export function peerFetch(url: string | URL, init: RequestInit, tlsSettings: PeerClientTls | undefined): Promise<Response> {
  return fetch(url, tlsSettings ? ({ ...init, tls: { ...tlsSettings } } as RequestInit) : init);
}
