/**
 * etcd's v2 HTTP API on the client port (`--enable-v2`, etcd's v2http.handleV2): `/v2/keys`,
 * `/v2/members`, `/v2/machines`, `/v2/stats/*`. Without the flag none of these routes exist and
 * they answer Go's `404 page not found`, as etcd 3.4 does.
 */
import type { Hono } from "hono";
import type { EtcdServerApi } from "../../node/types.ts";
import { serveKeys, type KeysDeps } from "./keys.ts";
import { serveMachines, serveMembers, type MembersDeps } from "./members.ts";
import { serveStats, type StatsDeps } from "./stats.ts";
import { redirectToCleanPath } from "./clean-path.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import { keysFastPath, serveKeysOnNode } from "./keys-node.ts";
import type { Http1FastPath } from "../http1-fast-path.ts";
import type { CorsOrigins } from "../cors.ts";

/** The member's v2 side as the routes use it (EtcdNode provides it as `v2Http()`). */
export type V2HttpDeps = KeysDeps & MembersDeps & StatsDeps;

/** What an EtcdServerApi offers when it serves v2. */
export interface V2Capable {
  v2Http?(): V2HttpDeps;
}

/** Mounts the v2 routes on `app` when `api` serves v2. */
export function mountV2(app: Hono, api: EtcdServerApi & V2Capable): void {
  const deps = api.v2Http?.();
  if (!deps) return;
  app.use("/v2/*", async (c, next) => {
    const redirect = redirectToCleanPath(c.req.raw);
    if (redirect) return redirect;
    await next();
  });
  const keys = (c: { req: { raw: Request } }) => serveKeys(c.req.raw, deps);
  app.all("/v2/keys", keys);
  app.all("/v2/keys/*", keys);
  const members = (c: { req: { raw: Request } }) => serveMembers(c.req.raw, deps);
  app.all("/v2/members", members);
  app.all("/v2/members/*", members);
  app.all("/v2/machines", (c) => serveMachines(c.req.raw, deps));
  app.all("/v2/stats/:what", (c) => serveStats(c.req.raw, c.req.param("what"), deps) ?? c.notFound());
}

/**
 * The HTTP/1.1 fast path of `/v2/keys` writes when `api` serves v2 (server/http/v2/keys-node.ts):
 * serves the request and returns true, or returns false for the hono app to serve it.
 */
export function v2KeysFastPath(api: EtcdServerApi & V2Capable): ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined {
  const deps = api.v2Http?.();
  if (!deps) return undefined;
  return (req, res) => serveKeysOnNode(req, res, deps);
}

/** The `/v2/keys` writes answered straight off HTTP/1.1 connections when `api` serves v2 (server/http/http1-fast-path.ts). */
export function v2KeysConnectionFastPath(api: EtcdServerApi & V2Capable, cors: CorsOrigins): Pick<Http1FastPath, "takes" | "answer"> | undefined {
  const deps = api.v2Http?.();
  return deps ? keysFastPath(deps, cors) : undefined;
}
