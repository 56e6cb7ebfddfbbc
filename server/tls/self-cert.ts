/**
 * `--auto-tls` / `--peer-auto-tls`: a self-signed certificate as etcd's transport.SelfCert makes it
 * (pkg/transport/listener.go): `<dir>/cert.pem` and `<dir>/key.pem` (reused when both exist),
 * ECDSA P-521, subject O=etcd, valid for one year from now, key usages keyEncipherment +
 * digitalSignature, extended key usage serverAuth, the listen URLs' hosts as IP or DNS SANs. The
 * directory is `<data-dir>/fixtures/client` or `<data-dir>/fixtures/peer` (embed/config.go).
 * Made with @peculiar/x509 on WebCrypto; the key is written as SEC1 `EC PRIVATE KEY`, mode 0600.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, webcrypto } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { emptyTlsInfo, type TlsInfo } from "./tls-info.ts";

/** One year of validity as etcd counts it (365 days), ms. */
export const SELF_CERT_YEAR_MS = 365 * 24 * 3600 * 1000;

/** `host:port` (or `[v6]:port`) → host. */
function hostOf(hostport: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(hostport);
  if (m) return m[1]!;
  const i = hostport.lastIndexOf(":");
  return i >= 0 ? hostport.slice(0, i) : hostport;
}

/**
 * Returns a TlsInfo (certFile, keyFile, selfCert true) for `<dir>/cert.pem` and `<dir>/key.pem`,
 * making them first unless both exist. `hosts` are `host:port` strings (the listen URLs' hosts);
 * `validityYears` (`--self-signed-cert-validity`, etcd 3.5) of 365 days each. Logs `created cert
 * file` / `created key file` with the paths. Rejects with etcd's `selfSignedCertValidity is
 * invalid,it should be greater than 0` for 0, or when the directory or files cannot be written.
 */
export async function selfCert(log: Logger, dir: string, hosts: string[], validityYears = 1): Promise<TlsInfo> {
  if (validityYears <= 0) throw new Error("selfSignedCertValidity is invalid,it should be greater than 0");
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const info: TlsInfo = { ...emptyTlsInfo(), certFile, keyFile, selfCert: true };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(certFile) && existsSync(keyFile)) return info;

  const alg = { name: "ECDSA", namedCurve: "P-521", hash: "SHA-512" } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const names: x509.JsonGeneralName[] = [];
  for (const h of hosts.map(hostOf)) {
    if (h === "") continue;
    names.push(isIP(h) ? { type: "ip", value: h } : { type: "dns", value: h });
  }
  const now = Date.now();
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0]! &= 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString("hex"),
      name: "O=etcd",
      notBefore: new Date(now),
      notAfter: new Date(now + validityYears * SELF_CERT_YEAR_MS),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      ],
    },
    webcrypto as unknown as Crypto,
  );
  writeFileSync(certFile, cert.toString("pem") + "\n");
  log.info("created cert file", { path: certFile });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const sec1 = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ type: "sec1", format: "pem" });
  writeFileSync(keyFile, sec1, { mode: 0o600 });
  log.info("created key file", { path: keyFile });
  return info;
}
