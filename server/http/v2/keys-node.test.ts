import { describe, expect, test } from "bun:test";
import { isFastKeysTarget } from "./keys-node.ts";

describe("isFastKeysTarget", () => {
  test("serves clean /v2/keys writes", () => {
    expect(isFastKeysTarget("PUT", "/v2/keys/a")).toBe(true);
    expect(isFastKeysTarget("PUT", "/v2/keys")).toBe(true);
    expect(isFastKeysTarget("POST", "/v2/keys/q?value=1")).toBe(true);
    expect(isFastKeysTarget("DELETE", "/v2/keys/dir/?recursive=true")).toBe(true);
    expect(isFastKeysTarget("PUT", "/v2/keys/a%20b")).toBe(true);
  });

  test("leaves reads, watches, other paths and what Go's mux redirects to the hono route", () => {
    expect(isFastKeysTarget("GET", "/v2/keys/a")).toBe(false);
    expect(isFastKeysTarget("HEAD", "/v2/keys/a")).toBe(false);
    expect(isFastKeysTarget("PATCH", "/v2/keys/a")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keysx")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/members")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys//a")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/a/../b")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/%2e%2e/b")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/%zz")).toBe(false);
    expect(isFastKeysTarget("PUT", "/v2/keys/a\\b")).toBe(false);
    expect(isFastKeysTarget("PUT", "http://h/v2/keys/a")).toBe(false);
  });
});
