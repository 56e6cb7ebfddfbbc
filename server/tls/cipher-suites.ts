/**
 * `--cipher-suites`: Go's cipher suite names (crypto/tls, as etcd's pkg/tlsutil/cipher_suites.go
 * accepts them) translated to the OpenSSL names node:tls takes in its `ciphers` option.
 *
 * As in Go, the list restricts TLS 1.2 only: TLS 1.3 suites are not configurable (Go ignores
 * TLS 1.3 names in Config.CipherSuites; here they are accepted and dropped).
 */

/** Go name → OpenSSL name; `null` for TLS 1.3 suites (accepted, no effect). */
const GO_TO_OPENSSL: Readonly<Record<string, string | null>> = {
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: "DES-CBC3-SHA",
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
  TLS_RSA_WITH_AES_128_CBC_SHA256: "AES128-SHA256",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: "ECDHE-RSA-DES-CBC3-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: "ECDHE-ECDSA-AES128-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: "ECDHE-RSA-AES128-SHA256",
};

/**
 * Translates Go cipher suite names to node:tls's `ciphers` string (`:`-separated, in the given
 * order of preference). Returns undefined for an empty list or one of TLS 1.3 names only (the
 * runtime's defaults apply). Throws `unexpected TLS cipher suite "<name>"` (etcd's
 * tlsutil.GetCipherSuites error) for a name Go does not know, or one this runtime cannot offer
 * (RC4 suites).
 */
export function opensslCiphers(goNames: readonly string[]): string | undefined {
  const out: string[] = [];
  for (const name of goNames) {
    const mapped = GO_TO_OPENSSL[name];
    if (mapped === undefined) throw new Error(`unexpected TLS cipher suite ${JSON.stringify(name)}`);
    if (mapped !== null && !out.includes(mapped)) out.push(mapped);
  }
  return out.length > 0 ? out.join(":") : undefined;
}
