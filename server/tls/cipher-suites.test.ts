import { expect, test } from "bun:test";
import { opensslCiphers } from "./cipher-suites.ts";

test("Go names map to OpenSSL names in order; TLS 1.3 names have no effect", () => {
  expect(opensslCiphers(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"])).toBe(
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
  );
  expect(opensslCiphers([])).toBeUndefined();
  expect(opensslCiphers(["TLS_AES_256_GCM_SHA384"])).toBeUndefined();
});

test("unknown names are refused with etcd's message", () => {
  expect(() => opensslCiphers(["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "nope"])).toThrow('unexpected TLS cipher suite "nope"');
  expect(() => opensslCiphers(["TLS_RSA_WITH_RC4_128_SHA"])).toThrow('unexpected TLS cipher suite "TLS_RSA_WITH_RC4_128_SHA"');
});
