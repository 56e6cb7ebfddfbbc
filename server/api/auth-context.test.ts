import { createContextValues } from "@connectrpc/connect";
import { describe, expect, test } from "bun:test";
import { requestAuth, requestToken } from "./auth-context.ts";
import { CLIENT_CERT_CN_KEY } from "../tls/client-identity.ts";

describe("request credentials", () => {
  test("token from `token`, else `authorization`", () => {
    expect(requestToken(new Headers({ token: "a", authorization: "b" }))).toBe("a");
    expect(requestToken(new Headers({ authorization: "b" }))).toBe("b");
    expect(requestToken(new Headers())).toBeUndefined();
  });

  test("a token or a verified certificate's CN reaches the auth server; nothing else asks it", async () => {
    const seen: unknown[] = [];
    const api = { auth: { authInfo: async (token?: string, cn?: string) => (seen.push([token, cn]), { username: cn ?? "t", revision: 1 }) } } as never;
    const ctx = (headers: Record<string, string>, cn?: string) => {
      const values = createContextValues();
      if (cn !== undefined) values.set(CLIENT_CERT_CN_KEY, cn);
      return { requestHeader: new Headers(headers), values };
    };
    expect(requestAuth(api, ctx({}))).toBeUndefined();
    expect(await requestAuth(api, ctx({}, "alice"))).toEqual({ username: "alice", revision: 1 });
    expect(await requestAuth(api, ctx({ token: "tok" }, "alice"))).toEqual({ username: "alice", revision: 1 });
    expect(seen).toEqual([[undefined, "alice"], ["tok", "alice"]]);
    expect(requestAuth({} as never, ctx({ token: "tok" }))).toBeUndefined();
  });
});
