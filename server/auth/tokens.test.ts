import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JwtTokens, parseGoDuration } from "./jwt-token.ts";
import { SimpleTokens } from "./simple-token.ts";
import { createTokenProvider, decomposeAuthTokenOpts } from "./tokens.ts";

/** A clock the test moves by hand, ms. */
function fakeClock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("simple tokens (etcd's auth/simple_token.go)", () => {
  test("format, lifetime extended on use, expiry after the TTL", () => {
    const clock = fakeClock();
    const t = new SimpleTokens(clock, 300_000);
    t.enable();
    const prefix = t.genTokenPrefix();
    expect(prefix).toMatch(/^[a-zA-Z]{16}$/);
    const token = t.assign("alice", prefix, 42);
    expect(token).toBe(`${prefix}.42`);
    expect(SimpleTokens.indexOf(token)).toBe(42);
    expect(SimpleTokens.indexOf("nodot")).toBeUndefined();
    expect(SimpleTokens.indexOf("a.b.c")).toBeUndefined();
    clock.t += 299_000;
    expect(t.username(token)).toBe("alice"); // used: lives 300 s from now
    clock.t += 299_000;
    expect(t.username(token)).toBe("alice");
    clock.t += 300_001;
    expect(t.username(token)).toBeUndefined();
  });

  test("invalidated per user and all at once by disable", () => {
    const t = new SimpleTokens(fakeClock());
    t.enable();
    const a = t.assign("alice", "a", 1);
    const b = t.assign("bob", "b", 2);
    t.invalidateUser("alice");
    expect([t.username(a), t.username(b)]).toEqual([undefined, "bob"]);
    t.disable();
    expect(t.username(b)).toBeUndefined();
    expect(() => {
      t.enable();
      t.assign("bob", "b", 3);
      t.assign("bob", "b", 3);
    }).toThrow("already used");
  });
});

describe("--auth-token options", () => {
  test("decomposed like etcd's decomposeOpts", () => {
    expect(decomposeAuthTokenOpts("jwt,sign-method=RS256,ttl=5m")).toEqual({
      type: "jwt",
      opts: new Map([["sign-method", "RS256"], ["ttl", "5m"]]),
    });
    expect(() => decomposeAuthTokenOpts("jwt,sign-method")).toThrow("auth: invalid auth options");
    expect(() => decomposeAuthTokenOpts("jwt,ttl=1s,ttl=2s")).toThrow("auth: invalid auth options");
    expect(() => createTokenProvider("paseto", 1, { monotonic: fakeClock(), wall: fakeClock() })).toThrow("auth: invalid auth options");
    expect(() => createTokenProvider("jwt,sign-method=XX", 1, { monotonic: fakeClock(), wall: fakeClock() })).toThrow(
      "auth: invalid auth signature method",
    );
    expect(() => createTokenProvider("jwt,sign-method=RS256", 1, { monotonic: fakeClock(), wall: fakeClock() })).toThrow("auth: missing key data");
  });

  test("Go durations", () => {
    expect(parseGoDuration("5m")).toBe(300_000);
    expect(parseGoDuration("1h30m")).toBe(5_400_000);
    expect(parseGoDuration("1.5s")).toBe(1500);
    expect(parseGoDuration("0")).toBe(0);
    expect(() => parseGoDuration("5")).toThrow('time: invalid duration "5"');
  });
});

describe("JWT tokens", () => {
  const dir = mkdtempSync(join(tmpdir(), "etcd-ts-jwt-"));
  const priv = join(dir, "k.pem");
  const pub = join(dir, "k.pub");
  execFileSync("openssl", ["genrsa", "-out", priv, "2048"], { stdio: "ignore" });
  execFileSync("openssl", ["rsa", "-in", priv, "-pubout", "-out", pub], { stdio: "ignore" });

  test("a token signed by one member verifies on another with the public key only; expiry and tampering", async () => {
    const wall = fakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const signer = JwtTokens.create(new Map([["sign-method", "RS256"], ["priv-key", priv], ["pub-key", pub], ["ttl", "10s"]]), wall);
    const verifier = JwtTokens.create(new Map([["sign-method", "RS256"], ["pub-key", pub]]), wall);
    const token = await signer.sign("alice", 7);
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(payload).toEqual({ exp: Math.floor(wall.t / 1000) + 10, revision: 7, username: "alice" });
    expect(await verifier.verify(token)).toEqual({ username: "alice", revision: 7, exp: payload.exp });
    expect(await verifier.verify(`${token.slice(0, -2)}xx`)).toBeUndefined();
    await expect(verifier.sign("alice", 7)).rejects.toThrow("auth: token signing attempted with verify-only key");
    wall.t += 11_000;
    expect(verifier.cached(token)).toBeUndefined();
    expect(await verifier.verify(token)).toBeUndefined();
  });

  test("keys that do not match are refused", () => {
    const other = join(dir, "o.pem");
    execFileSync("openssl", ["genrsa", "-out", other, "2048"], { stdio: "ignore" });
    expect(() => JwtTokens.create(new Map([["sign-method", "RS256"], ["priv-key", other], ["pub-key", pub]]), fakeClock())).toThrow(
      "auth: public and private keys don't match",
    );
  });
});
