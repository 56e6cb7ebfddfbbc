/**
 * The TLS settings of one side (client or peer) of a member, as etcd's `transport.TLSInfo`
 * (pkg/transport/listener.go): certificate and key files, the trusted CA, whether client
 * certificates are required, the CRL, and the peer-only checks on the client certificate's CN or
 * host name. Filled from `--cert-file ...` (client side) or `--peer-cert-file ...` (peer side) by
 * server/config.ts, or by server/tls/self-cert.ts for `--auto-tls` / `--peer-auto-tls`.
 */

/** One side's TLS settings; empty strings mean "not given", as in etcd. */
export interface TlsInfo {
  /** PEM certificate presented by the server (and by this member as a peer client). */
  certFile: string;
  /** PEM private key of `certFile`. */
  keyFile: string;
  /**
   * PEM CA bundle clients' certificates must chain to; when set, etcd requires a client
   * certificate even without `clientCertAuth` (ServerConfig: RequireAndVerifyClientCert).
   */
  trustedCaFile: string;
  /** `--client-cert-auth` / `--peer-client-cert-auth`: require a client certificate signed by `trustedCaFile`. */
  clientCertAuth: boolean;
  /** PEM or DER CRL; a client certificate whose serial is listed is refused. */
  crlFile: string;
  /** `--peer-cert-allowed-cn`: the client certificate's CN must equal this (peer side only). */
  allowedCn: string;
  /** `--peer-cert-allowed-hostname` / `--client-cert-allowed-hostname`: the client certificate must be valid for this host. */
  allowedHostname: string;
  /**
   * Skip etcd's check that a client certificate with IP/DNS SANs names the connecting address
   * (`--experimental-peer-skip-client-san-verification`; the client side never checks).
   */
  skipClientSanVerify: boolean;
  /** `--cipher-suites` as Go names (TLS 1.2 only; empty: the runtime's defaults). */
  cipherSuites: string[];
  /** True for a certificate made by `--auto-tls`/`--peer-auto-tls`: as a client this member then skips verifying servers. */
  selfCert: boolean;
}

/** A TlsInfo with nothing set. */
export function emptyTlsInfo(): TlsInfo {
  return {
    certFile: "",
    keyFile: "",
    trustedCaFile: "",
    clientCertAuth: false,
    crlFile: "",
    allowedCn: "",
    allowedHostname: "",
    skipClientSanVerify: false,
    cipherSuites: [],
    selfCert: false,
  };
}

/** etcd's TLSInfo.Empty: neither certificate nor key given. */
export function isTlsInfoEmpty(info: TlsInfo): boolean {
  return info.certFile === "" && info.keyFile === "";
}

/** etcd's TLSInfo.String, logged at start-up (`cert = ..., key = ..., trusted-ca = ..., client-cert-auth = ..., crl-file = ...`). */
export function describeTlsInfo(info: TlsInfo): string {
  return `cert = ${info.certFile}, key = ${info.keyFile}, trusted-ca = ${info.trustedCaFile}, client-cert-auth = ${info.clientCertAuth}, crl-file = ${info.crlFile}`;
}
