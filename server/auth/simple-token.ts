/**
 * etcd's simple tokens (auth/simple_token.go): `<16 random letters>.<index of the Authenticate
 * entry>`. Every member registers the token when it applies the Authenticate entry, so a token
 * works on any member. A token lives `ttlMs` (`--auth-token-ttl`, default 300 s) after its
 * creation or last use; deleting the user, changing its password or disabling auth drops its
 * tokens. Tokens are in memory only: a restart forgets them, as in etcd.
 *
 * Time comes from the clock passed in; expired tokens are dropped when looked at (etcd sweeps
 * them every second, which a client cannot tell apart).
 */
import { randomInt } from "node:crypto";
import type { Clock } from "../lease/lessor.ts";
import type { TokenEvents } from "./store.ts";

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Length of the random part of a simple token. */
export const SIMPLE_TOKEN_PREFIX_LENGTH = 16;
/** Default lifetime of a simple token, ms (etcd's --auth-token-ttl default 300 s). */
export const DEFAULT_SIMPLE_TOKEN_TTL_MS = 300_000;

/** The simple token provider of one member. */
export class SimpleTokens implements TokenEvents {
  readonly kind = "simple" as const;
  /** token -> user name and expiry (clock ms); undefined while auth is disabled. */
  private tokens: Map<string, { username: string; expiresAt: number }> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number = DEFAULT_SIMPLE_TOKEN_TTL_MS,
  ) {}

  enable(): void {
    this.tokens ??= new Map();
  }

  disable(): void {
    this.tokens = undefined;
  }

  invalidateUser(name: string): void {
    if (!this.tokens) return;
    for (const [token, t] of this.tokens) if (t.username === name) this.tokens.delete(token);
  }

  /** A fresh random prefix (16 letters), made by the member that proposes Authenticate. */
  genTokenPrefix(): string {
    let s = "";
    for (let i = 0; i < SIMPLE_TOKEN_PREFIX_LENGTH; i++) s += LETTERS[randomInt(LETTERS.length)];
    return s;
  }

  /**
   * Registers `<prefix>.<index>` for `username` (while applying the Authenticate entry at
   * `index`) and returns it. Throws if the token is in use (etcd panics: it cannot happen).
   */
  assign(username: string, prefix: string, index: number): string {
    const token = `${prefix}.${index}`;
    if (!this.tokens) return token;
    if (this.tokens.has(token)) throw new Error(`token ${token} is already used`);
    this.tokens.set(token, { username, expiresAt: this.clock.now() + this.ttlMs });
    return token;
  }

  /**
   * The entry index a token names, or undefined when the token is not of the form
   * `<prefix>.<decimal index>` (etcd's isValidSimpleToken).
   */
  static indexOf(token: string): number | undefined {
    const parts = token.split(".");
    if (parts.length !== 2 || !/^[+-]?\d+$/.test(parts[1]!)) return undefined;
    const n = Number(parts[1]);
    return Number.isSafeInteger(n) ? n : undefined;
  }

  /** The user of a live token, extending its life (etcd's resetSimpleToken); undefined if unknown or expired. */
  username(token: string): string | undefined {
    const t = this.tokens?.get(token);
    if (!t) return undefined;
    const now = this.clock.now();
    if (now > t.expiresAt) {
      this.tokens!.delete(token);
      return undefined;
    }
    t.expiresAt = now + this.ttlMs;
    return t.username;
  }

  /** Number of live tokens (tests). */
  get size(): number {
    return this.tokens?.size ?? 0;
  }
}
