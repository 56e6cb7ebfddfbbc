import { expect, test } from "bun:test";
import type * as tls from "node:tls";
import { checkCertSan, subjectAltNames } from "./client-cert-checks.ts";

const cert = (subjectaltname?: string) => ({ subjectaltname }) as tls.PeerCertificate;

test("subjectAltNames splits IP and DNS entries", () => {
  expect(subjectAltNames(cert("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, email:a@b"))).toEqual({
    ips: ["127.0.0.1", "0:0:0:0:0:0:0:1"],
    dnsNames: ["localhost"],
  });
  expect(subjectAltNames(cert())).toEqual({ ips: [], dnsNames: [] });
});

test("etcd's checkCertSAN: no SANs pass; IP SANs must name the remote address; DNS names are resolved", async () => {
  expect(await checkCertSan(cert(), "10.1.2.3")).toBeUndefined();
  expect(await checkCertSan(cert("IP Address:127.0.0.1"), "::ffff:127.0.0.1")).toBeUndefined();
  expect(await checkCertSan(cert("IP Address:10.0.0.1, IP Address:10.0.0.2"), "127.0.0.1")).toBe(
    "x509: certificate is valid for 10.0.0.1, 10.0.0.2, not 127.0.0.1",
  );
  expect(await checkCertSan(cert("IP Address:10.0.0.1, DNS:localhost"), "127.0.0.1")).toBeUndefined();
  expect(await checkCertSan(cert("DNS:does-not-exist.invalid"), "127.0.0.1")).toStartWith(
    'tls: "127.0.0.1" does not match any of DNSNames ["does-not-exist.invalid"]',
  );
});
