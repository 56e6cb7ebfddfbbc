/**
 * Which endpoints use TLS and with what (clientv3 3.4's `processCreds` and etcdctl's
 * `newClientCfg`), without a server: the per-scheme rules of `endpointTarget` and the flag rules
 * of `clientTlsFromFlags`. The same rules are checked against Go's etcdctl in `tls.test.ts`.
 */
import { describe, expect, test } from "bun:test";
import { CtlError } from "./errors.ts";
import { clientTlsFromFlags, endpointTarget } from "./tls.ts";

const NO_FLAGS = { cert: "", key: "", cacert: "", insecureTransport: true, insecureSkipVerify: false };

describe("endpointTarget", () => {
  test("http:// is plaintext even with a TLS configuration", () => {
    expect(endpointTarget("http://127.0.0.1:2379", { rejectUnauthorized: true, ca: "x" })).toEqual({ baseUrl: "http://127.0.0.1:2379" });
  });

  test("https:// uses TLS: the configuration given, else verified defaults", () => {
    expect(endpointTarget("https://h:1", undefined).nodeOptions).toEqual({ rejectUnauthorized: true, ALPNProtocols: ["h2"] });
    const t = endpointTarget("https://h:1", { rejectUnauthorized: false, ca: "CA", cert: "C", key: "K" });
    expect(t).toEqual({ baseUrl: "https://h:1", nodeOptions: { rejectUnauthorized: false, ALPNProtocols: ["h2"], ca: "CA", cert: "C", key: "K" } });
  });

  test("host:port uses TLS only with a configuration", () => {
    expect(endpointTarget("127.0.0.1:2379", undefined)).toEqual({ baseUrl: "http://127.0.0.1:2379" });
    expect(endpointTarget("127.0.0.1:2379", { rejectUnauthorized: true }).baseUrl).toBe("https://127.0.0.1:2379");
  });
});

describe("clientTlsFromFlags", () => {
  test("no TLS flag and --insecure-transport (the default): no configuration; skip-verify alone changes nothing", () => {
    expect(clientTlsFromFlags(NO_FLAGS)).toBeUndefined();
    expect(clientTlsFromFlags({ ...NO_FLAGS, insecureSkipVerify: true })).toBeUndefined();
  });

  test("--insecure-transport=false: an empty configuration, which skip-verify applies to", () => {
    expect(clientTlsFromFlags({ ...NO_FLAGS, insecureTransport: false })).toEqual({ rejectUnauthorized: true });
    expect(clientTlsFromFlags({ ...NO_FLAGS, insecureTransport: false, insecureSkipVerify: true })).toEqual({ rejectUnauthorized: false });
  });

  test("a certificate without its key, and unreadable files, exit 128 with Go's texts", () => {
    const error = (f: Partial<typeof NO_FLAGS>) => {
      try {
        clientTlsFromFlags({ ...NO_FLAGS, ...f });
      } catch (e) {
        if (e instanceof CtlError) return [e.exitCode, e.message];
      }
      return undefined;
    };
    expect(error({ cert: "/c.pem" })).toEqual([128, "KeyFile and CertFile must both be present[key: , cert: /c.pem]"]);
    expect(error({ key: "/k.pem" })).toEqual([128, "KeyFile and CertFile must both be present[key: /k.pem, cert: ]"]);
    expect(error({ cacert: "/nonexistent/ca.pem" })).toEqual([128, "open /nonexistent/ca.pem: no such file or directory"]);
  });
});
