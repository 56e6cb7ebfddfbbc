import { afterAll, expect, test } from "bun:test";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../log.ts";
import { SELF_CERT_YEAR_MS, selfCert } from "./self-cert.ts";

const dir = mkdtempSync(join(tmpdir(), "etcd-ts-self-cert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines: string[] = [];
const log = createLogger({ write: (l) => lines.push(l) });

test("makes etcd's self-signed certificate: P-521, O=etcd, the hosts as SANs, one year, key 0600 in SEC1", async () => {
  const info = await selfCert(log, join(dir, "fixtures", "client"), ["127.0.0.1:2379", "localhost:2379", "[::1]:2379"]);
  expect(info).toMatchObject({ certFile: join(dir, "fixtures/client/cert.pem"), keyFile: join(dir, "fixtures/client/key.pem"), selfCert: true });
  const cert = new X509Certificate(readFileSync(info.certFile));
  expect(cert.subject).toBe("O=etcd");
  expect(cert.issuer).toBe("O=etcd");
  expect(cert.subjectAltName).toBe("IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1");
  expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
  const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  expect(Math.abs(lifetime - SELF_CERT_YEAR_MS)).toBeLessThan(2000);
  expect(cert.verify(cert.publicKey)).toBe(true);
  const key = readFileSync(info.keyFile, "utf8");
  expect(key).toStartWith("-----BEGIN EC PRIVATE KEY-----");
  expect(createPrivateKey(key).asymmetricKeyDetails?.namedCurve).toBe("secp521r1");
  expect(statSync(info.keyFile).mode & 0o777).toBe(0o600);
  expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["created cert file", "created key file"]);
});

test("reuses existing files and honours --self-signed-cert-validity", async () => {
  const first = await selfCert(log, join(dir, "peer"), ["127.0.0.1:2380"], 3);
  const pem = readFileSync(first.certFile, "utf8");
  const cert = new X509Certificate(pem);
  expect(Math.abs(Date.parse(cert.validTo) - Date.parse(cert.validFrom) - 3 * SELF_CERT_YEAR_MS)).toBeLessThan(2000);
  await selfCert(log, join(dir, "peer"), ["127.0.0.1:2380"]);
  expect(readFileSync(first.certFile, "utf8")).toBe(pem);
  await expect(selfCert(log, join(dir, "zero"), [], 0)).rejects.toThrow("selfSignedCertValidity is invalid,it should be greater than 0");
});
