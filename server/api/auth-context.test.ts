import { createContextValues } from "@connectrpc/connect";
import { describe, expect, test } from "bun:test";
import { peerCommonName, requestToken, tlsContextValues, verifiedCommonName } from "./auth-context.ts";

/** What node:tls offers on a TLSSocket, as far as the hook reads it. */
const tlsSocket = (authorized: boolean, CN?: string | string[]) => ({
  authorized,
  getPeerCertificate: () => (CN === undefined ? {} : { subject: { CN } }),
});

describe("request credentials", () => {
  test("token from `token`, else `authorization`", () => {
    expect(requestToken(new Headers({ token: "a", authorization: "b" }))).toBe("a");
    expect(requestToken(new Headers({ authorization: "b" }))).toBe("b");
    expect(requestToken(new Headers())).toBeUndefined();
  });

  test("the common name of a verified client certificate, and nothing else", () => {
    expect(verifiedCommonName(tlsSocket(true, "alice"))).toBe("alice");
    expect(verifiedCommonName(tlsSocket(true, ["alice", "x"]))).toBe("alice");
    expect(verifiedCommonName(tlsSocket(false, "alice"))).toBeUndefined();
    expect(verifiedCommonName(tlsSocket(true))).toBeUndefined();
    expect(verifiedCommonName({ remoteAddress: "127.0.0.1" })).toBeUndefined();
    expect(verifiedCommonName(undefined)).toBeUndefined();
    // Through the HTTP/2 listener's stream wrapper.
    expect(verifiedCommonName({ underlyingSocket: tlsSocket(true, "carol") })).toBe("carol");
    expect(tlsContextValues(tlsSocket(true, "bob"), createContextValues()).get(peerCommonName)).toBe("bob");
    expect(tlsContextValues({}, createContextValues()).get(peerCommonName)).toBeUndefined();
  });
});
