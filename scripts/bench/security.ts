/**
 * The benchmark's security modes (`--security`), set up alike on etcd 3.4 and ours:
 * - `none`: cleartext, no auth (the default);
 * - `mtls`: an `https://` client URL with `--cert-file --key-file --trusted-ca-file --client-cert-auth`
 *   (etcd's security guide, Documentation/op-guide/security.md); the load generator presents a client
 *   certificate signed by the same test CA (certificates made with openssl by server/e2e/certs.ts);
 * - `auth`: cleartext with auth enabled and simple tokens (etcd's default `--auth-token simple`): user
 *   `root` (role root) and user `bench` whose role `bench` may read and write every key; the generator
 *   authenticates as `bench` once per connection set and sends the token as gRPC metadata `token`, so each
 *   request pays etcd's token lookup and permission check (root would skip the check).
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Permission_Type } from "../../proto/gen/authpb/auth_pb.ts";
import { Auth } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { makeTestPki } from "../../server/e2e/certs.ts";

/** `--security` values. */
export const SECURITY_MODES = ["none", "mtls", "auth"] as const;
/** One of {@link SECURITY_MODES}. */
export type Security = (typeof SECURITY_MODES)[number];

/** How a client reaches a server of a security mode; plain JSON (sent to the generator process). */
export interface ServerAccess {
  /** PEM file paths for mTLS: the CA to trust, the client certificate and its key. */
  tls?: { ca: string; cert: string; key: string };
  /** User to authenticate as (auth mode). */
  user?: { name: string; password: string };
}

/** The user the load runs as in auth mode. */
const BENCH_USER = { name: "bench", password: "bench-pw" };
/** Password of `root` in auth mode (snapshot save and other root-only calls). */
export const ROOT_PASSWORD = "root-pw";

/** What a server of `security` needs beyond the standard flags: its scheme, flags and the clients' access. */
export interface SecuritySetup {
  scheme: "http" | "https";
  flags: string[];
  access: ServerAccess;
}

/**
 * Prepares `security` for one server whose files go under `dir` (for mtls: a test CA, a server
 * certificate for 127.0.0.1 and a client certificate, about 2 s of openssl). Throws when openssl fails.
 */
export function securitySetup(security: Security, dir: string): SecuritySetup {
  if (security === "mtls") {
    const pki = makeTestPki(join(dir, "pki"));
    return {
      scheme: "https",
      flags: ["--cert-file", pki.server.cert, "--key-file", pki.server.key, "--trusted-ca-file", pki.ca, "--client-cert-auth"],
      access: { tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } },
    };
  }
  if (security === "auth") return { scheme: "http", flags: [], access: { user: BENCH_USER } };
  return { scheme: "http", flags: [], access: {} };
}

/** node:http2 TLS options of `access` (undefined without TLS). */
export function nodeTlsOptions(access: ServerAccess | undefined): { ca: Buffer; cert: Buffer; key: Buffer } | undefined {
  if (!access?.tls) return undefined;
  return { ca: readFileSync(access.tls.ca), cert: readFileSync(access.tls.cert), key: readFileSync(access.tls.key) };
}

/** A connect-node gRPC transport to `endpoint` with `access`'s TLS (no token). */
function transportFor(endpoint: string, access: ServerAccess | undefined) {
  const nodeOptions = nodeTlsOptions(access);
  return createGrpcTransport({ baseUrl: endpoint, ...(nodeOptions ? { nodeOptions } : {}) });
}

/**
 * Auth mode's set-up on a fresh server: root (role root), role `bench` with READWRITE on every key
 * (key `\0`, range_end `\0`: from the smallest key on), user `bench` with it, then AuthEnable.
 * Throws the server's error (e.g. when run twice on the same server).
 */
export async function enableAuth(endpoint: string, access: ServerAccess): Promise<void> {
  if (!access.user) return;
  const auth = createClient(Auth, transportFor(endpoint, access));
  const zero = new Uint8Array([0]);
  await auth.userAdd({ name: "root", password: ROOT_PASSWORD });
  await auth.roleAdd({ name: "root" });
  await auth.userGrantRole({ user: "root", role: "root" });
  await auth.roleAdd({ name: "bench" });
  await auth.roleGrantPermission({ name: "bench", perm: { permType: Permission_Type.READWRITE, key: zero, rangeEnd: zero } });
  await auth.userAdd({ name: access.user.name, password: access.user.password });
  await auth.userGrantRole({ user: access.user.name, role: "bench" });
  await auth.authEnable({});
}

/** gRPC metadata for `access` at `endpoint`: `{ token }` after an Authenticate as its user, else none. */
export async function accessMetadata(endpoint: string, access: ServerAccess | undefined): Promise<Record<string, string>> {
  if (!access?.user) return {};
  const auth = createClient(Auth, transportFor(endpoint, access));
  const { token } = await auth.authenticate({ name: access.user.name, password: access.user.password }, { timeoutMs: 5_000 });
  return { token };
}
