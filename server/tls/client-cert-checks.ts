/**
 * The checks etcd makes on a client certificate after the TLS library has verified its chain
 * (pkg/transport/listener.go baseConfig VerifyPeerCertificate, listener_tls.go checkCertSAN):
 * - `--peer-cert-allowed-cn`: the certificate's CN must equal it;
 * - `--peer-cert-allowed-hostname` / `--client-cert-allowed-hostname`: the certificate must be valid
 *   for that host (SAN, as a server certificate would be checked);
 * - on peer listeners (unless `--experimental-peer-skip-client-san-verification`): a certificate
 *   naming IPs or DNS names must name the address the connection comes from (DNS names are
 *   resolved forward, and the address backward).
 * The error texts are Go's.
 */
import { promises as dns } from "node:dns";
import * as tls from "node:tls";
import type { TlsInfo } from "./tls-info.ts";

/** Go's `%q` of a []string: `["a" "b"]`. */
function goQuoteList(items: string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/** The IP and DNS names of a certificate's subjectAltName (`DNS:a, IP Address:1.2.3.4`). */
export function subjectAltNames(cert: tls.PeerCertificate): { ips: string[]; dnsNames: string[] } {
  const ips: string[] = [];
  const dnsNames: string[] = [];
  for (const part of (cert.subjectaltname ?? "").split(/,\s*/)) {
    if (part.startsWith("IP Address:")) ips.push(part.slice("IP Address:".length).toLowerCase());
    else if (part.startsWith("DNS:")) dnsNames.push(part.slice(4));
  }
  return { ips, dnsNames };
}

/** `::ffff:127.0.0.1` → `127.0.0.1` (how a v4 client appears on a dual-stack socket). */
function plainIp(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1").toLowerCase();
}

/** etcd's checkCertSAN: resolves to an error text, or undefined when `remoteIp` is allowed. */
export async function checkCertSan(cert: tls.PeerCertificate, remoteIp: string): Promise<string | undefined> {
  const { ips, dnsNames } = subjectAltNames(cert);
  if (ips.length === 0 && dnsNames.length === 0) return undefined;
  const host = plainIp(remoteIp);
  if (ips.length > 0) {
    if (ips.map(plainIp).includes(host)) return undefined;
    if (dnsNames.length === 0) return `x509: certificate is valid for ${ips.join(", ")}, not ${host}`;
  }
  let lookupError: string | undefined;
  const wildcards = dnsNames.filter((n) => n.startsWith("*.")).map((n) => n.slice(1));
  const names = dnsNames.filter((n) => !n.startsWith("*."));
  try {
    for (const name of await dns.reverse(host)) {
      const n = name.replace(/\.$/, "");
      if (names.includes(n) || wildcards.some((w) => n.endsWith(w))) return undefined;
    }
  } catch (e) {
    lookupError = (e as Error).message;
  }
  for (const name of names) {
    try {
      const addrs = await dns.lookup(name, { all: true });
      if (addrs.some((a) => plainIp(a.address) === host)) return undefined;
    } catch (e) {
      lookupError = (e as Error).message;
    }
  }
  return `tls: ${JSON.stringify(host)} does not match any of DNSNames ${goQuoteList(dnsNames)}${lookupError ? ` (${lookupError})` : ""}`;
}

/** Options of {@link checkClientCertificate}. */
export interface ClientCertCheckOptions {
  /** Apply etcd's SAN-versus-remote-address check (peer listeners). */
  checkSan: boolean;
}

/**
 * Runs the checks of the module doc on a connection whose handshake succeeded. Resolves to the
 * error text (the connection must then be closed) or undefined. A connection without a client
 * certificate passes (the handshake already refused it when one was required).
 */
export async function checkClientCertificate(socket: tls.TLSSocket, info: TlsInfo, opts: ClientCertCheckOptions): Promise<string | undefined> {
  const cert = socket.getPeerCertificate(false);
  if (!cert || !cert.raw) return undefined;
  if (info.allowedCn !== "" && cert.subject?.CN !== info.allowedCn) return "client certificate authentication failed";
  if (info.allowedHostname !== "" && tls.checkServerIdentity(info.allowedHostname, cert) !== undefined) {
    return "client certificate authentication failed";
  }
  if (opts.checkSan && !info.skipClientSanVerify) return checkCertSan(cert, socket.remoteAddress ?? "");
  return undefined;
}
