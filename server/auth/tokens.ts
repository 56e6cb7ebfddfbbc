/**
 * `--auth-token` as etcd 3.4 reads it (auth/store.go decomposeOpts, NewTokenProvider):
 * `simple` (default) or `jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>[,ttl=<duration>]`.
 * Options are `name=value` pairs after the type, comma-separated, each name once.
 */
import type { Clock } from "../lease/lessor.ts";
import { JwtTokens, type WallClock } from "./jwt-token.ts";
import { SimpleTokens } from "./simple-token.ts";

/** A member's token provider. */
export type TokenProvider = SimpleTokens | JwtTokens;

/** etcd's error for a malformed `--auth-token` (auth.ErrInvalidAuthOpts). */
export const INVALID_AUTH_OPTS = "auth: invalid auth options";

/**
 * Splits `--auth-token` into its type and options. Throws `auth: invalid auth options` for an
 * option that is not `name=value` or a name given twice.
 */
export function decomposeAuthTokenOpts(spec: string): { type: string; opts: Map<string, string> } {
  const [type, ...rest] = spec.split(",");
  const opts = new Map<string, string>();
  for (const item of rest) {
    const pair = item.split("=");
    if (pair.length !== 2 || opts.has(pair[0]!)) throw new Error(INVALID_AUTH_OPTS);
    opts.set(pair[0]!, pair[1]!);
  }
  return { type: type!, opts };
}

/** Clocks of the token providers: monotonic ms for simple-token lifetimes, wall ms for JWT `exp`. */
export interface TokenClocks {
  monotonic: Clock;
  wall: WallClock;
}

/**
 * Builds the provider `--auth-token` names; `simpleTtlMs` is `--auth-token-ttl` in ms.
 * Throws `auth: invalid auth options` (unknown type, bad options) or the JWT key errors
 * (server/auth/jwt-token.ts).
 */
export function createTokenProvider(spec: string, simpleTtlMs: number, clocks: TokenClocks): TokenProvider {
  const { type, opts } = decomposeAuthTokenOpts(spec);
  if (type === "simple") return new SimpleTokens(clocks.monotonic, simpleTtlMs);
  if (type === "jwt") return JwtTokens.create(opts, clocks.wall);
  throw new Error(INVALID_AUTH_OPTS);
}
