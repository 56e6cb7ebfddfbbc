import { expect, test } from "bun:test";
import { emptyTlsInfo } from "./tls-info.ts";
import { crlAsPem, requiresClientCert, serverTlsOptions } from "./server-options.ts";

test("a DER CRL is wrapped as PEM; a PEM one is kept", () => {
  const der = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]);
  expect(crlAsPem(der)).toBe("-----BEGIN X509 CRL-----\nMAMCAQU=\n-----END X509 CRL-----\n");
  const pem = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
  expect(crlAsPem(Buffer.from(pem))).toBe(pem);
});

test("client certificates are required with --client-cert-auth or a trusted CA, as etcd's ServerConfig", () => {
  expect(requiresClientCert(emptyTlsInfo())).toBe(false);
  expect(requiresClientCert({ ...emptyTlsInfo(), clientCertAuth: true })).toBe(true);
  expect(requiresClientCert({ ...emptyTlsInfo(), trustedCaFile: "ca.crt" })).toBe(true);
});

test("etcd's configuration errors", () => {
  expect(() => serverTlsOptions({ ...emptyTlsInfo(), certFile: "a.crt" })).toThrow("KeyFile and CertFile must both be present[key: , cert: a.crt]");
  expect(() => serverTlsOptions({ ...emptyTlsInfo(), certFile: "a", keyFile: "b", allowedCn: "x", allowedHostname: "h" })).toThrow(
    'AllowedCN and AllowedHostname are mutually exclusive (cn="x", hostname="h")',
  );
  expect(() => serverTlsOptions({ ...emptyTlsInfo(), certFile: "/nonexistent/a.crt", keyFile: "b" })).toThrow(
    "open /nonexistent/a.crt: no such file or directory",
  );
});
