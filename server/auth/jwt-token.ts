/**
 * etcd's JWT tokens (auth/jwt.go, auth/options.go) with the `jose` library: claims
 * `{"exp", "revision", "username"}`, signed with the key of `--auth-token
 * jwt,priv-key=<file>,pub-key=<file>,sign-method=<alg>,ttl=<duration>`. Any member with the same
 * keys verifies a token another member signed: nothing is kept per member. A member given only
 * a public key verifies but cannot sign (`auth: token signing attempted with verify-only key`).
 *
 * Unlike simple tokens a JWT carries the auth revision it was made at, so after any auth
 * change requests with it fail with `etcdserver: revision of auth store is old` until the
 * client authenticates again (clients do this on that error).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { SignJWT, jwtVerify } from "jose";

/** Signing methods etcd 3.4 accepts (golang-jwt's names). */
export const JWT_SIGN_METHODS = [
  "HS256", "HS384", "HS512",
  "RS256", "RS384", "RS512",
  "PS256", "PS384", "PS512",
  "ES256", "ES384", "ES512",
] as const;

/** Default token lifetime, ms (etcd's jwt DefaultTTL, 5 min). */
export const DEFAULT_JWT_TTL_MS = 5 * 60_000;

/** Most verified tokens remembered so that later lookups need no signature check. */
const VERIFIED_CACHE_LIMIT = 10_000;

/** A source of wall-clock time, epoch ms (JWT `exp` is wall time). */
export interface WallClock {
  now(): number;
}

/** The system's wall clock (Date.now), the default of a member's configuration. */
export const systemWallClock: WallClock = { now: () => Date.now() };

/** What a verified token says. */
export interface JwtClaims {
  username: string;
  revision: number;
  /** Expiry, epoch seconds. */
  exp: number;
}

/**
 * Go's time.ParseDuration for the units etcd users write (`ns`, `us`, `µs`, `ms`, `s`, `m`,
 * `h`, combined like `1h30m`); returns ms. Throws `time: invalid duration "<s>"`.
 */
export function parseGoDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const body = s.replace(/^[+-]/, "");
  if (body === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (body === "" || pos !== body.length) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  return s.startsWith("-") ? -total : total;
}

/** A key as jose takes it: node:crypto KeyObject (any PEM form: PKCS#8, PKCS#1, SEC1, SPKI) or an HMAC secret. */
type Key = KeyObject | Uint8Array;

/** Whether two public keys are the same key. */
function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: "der", type: "spki" }).equals(b.export({ format: "der", type: "spki" }));
}

/** The JWT token provider of one member. */
export class JwtTokens {
  readonly kind = "jwt" as const;
  private readonly verified = new Map<string, JwtClaims>();

  private constructor(
    private readonly alg: string,
    private readonly signKey: Key | undefined,
    private readonly verifyKey: Key,
    private readonly ttlMs: number,
    private readonly clock: WallClock,
  ) {}

  /**
   * Builds the provider from the `--auth-token` options (`sign-method`, `priv-key`, `pub-key`
   * file paths, `ttl`). Throws etcd's errors: `auth: invalid auth signature method`,
   * `auth: missing key data`, a file or key parse error.
   */
  static create(opts: Map<string, string>, clock: WallClock): JwtTokens {
    const alg = opts.get("sign-method") ?? "";
    if (!(JWT_SIGN_METHODS as readonly string[]).includes(alg)) throw new Error("auth: invalid auth signature method");
    const ttlText = opts.get("ttl") ?? "";
    const ttlMs = ttlText === "" ? DEFAULT_JWT_TTL_MS : parseGoDuration(ttlText);
    const privPem = opts.get("priv-key") ? readFileSync(opts.get("priv-key")!, "utf8") : undefined;
    const pubPem = opts.get("pub-key") ? readFileSync(opts.get("pub-key")!, "utf8") : undefined;
    if (alg.startsWith("HS")) {
      if (!privPem) throw new Error("auth: missing key data");
      const secret = new TextEncoder().encode(privPem);
      return new JwtTokens(alg, secret, secret, ttlMs, clock);
    }
    if (!privPem && !pubPem) throw new Error("auth: missing key data");
    const signKey = privPem ? createPrivateKey(privPem) : undefined;
    const verifyKey = pubPem ? createPublicKey(pubPem) : createPublicKey(privPem!);
    if (signKey && pubPem && !samePublicKey(createPublicKey(signKey), verifyKey)) throw new Error("auth: public and private keys don't match");
    return new JwtTokens(alg, signKey, verifyKey, ttlMs, clock);
  }

  /** JWT has no per-member token state: these do nothing. */
  enable(): void {}
  disable(): void {
    this.verified.clear();
  }
  invalidateUser(): void {}

  /** Signs a token for `username` at auth `revision`. Errors: `auth: token signing attempted with verify-only key`. */
  async sign(username: string, revision: number): Promise<string> {
    if (!this.signKey) throw new Error("auth: token signing attempted with verify-only key");
    const exp = Math.floor((this.clock.now() + this.ttlMs) / 1000);
    return new SignJWT({ revision, username }).setProtectedHeader({ alg: this.alg, typ: "JWT" }).setExpirationTime(exp).sign(this.signKey);
  }

  /** The claims of a token signed with our key and not expired, else undefined. */
  async verify(token: string): Promise<JwtClaims | undefined> {
    const cached = this.cached(token);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, this.verifyKey, { algorithms: [this.alg], currentDate: new Date(this.clock.now()) });
      if (typeof payload.username !== "string" || typeof payload.revision !== "number" || typeof payload.exp !== "number") return undefined;
      const claims = { username: payload.username, revision: payload.revision, exp: payload.exp };
      if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
      this.verified.set(token, claims);
      return claims;
    } catch {
      return undefined;
    }
  }

  /** The claims of a token verified before and not expired since (no signature check). */
  cached(token: string): JwtClaims | undefined {
    const c = this.verified.get(token);
    if (!c) return undefined;
    if (c.exp * 1000 <= this.clock.now()) {
      this.verified.delete(token);
      return undefined;
    }
    return c;
  }
}
