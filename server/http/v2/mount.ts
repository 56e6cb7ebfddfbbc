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
import { cleanPath } from "../../v2store/path.ts";

/** The member's v2 side as the routes use it (EtcdNode provides it as `v2Http()`). */
export type V2HttpDeps = KeysDeps & MembersDeps & StatsDeps;

/** What an EtcdServerApi offers when it serves v2. */
export interface V2Capable {
  v2Http?(): V2HttpDeps;
}

/** Go's ServeMux cleanPath: path.Clean, keeping a trailing slash. */
function goMuxCleanPath(p: string): string {
  const cleaned = cleanPath(p);
  return p.endsWith("/") && cleaned !== "/" ? cleaned + "/" : cleaned;
}

/**
 * Go's ServeMux answer to a path that is not clean (`//`, `.`, `..`): 301 to the clean one, with
 * the query kept; the `<a href>` body and its content type only for GET and HEAD (http.Redirect).
 */
function redirectToCleanPath(req: Request): Response | undefined {
  const url = new URL(req.url);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  const clean = goMuxCleanPath(path);
  if (clean === path) return undefined;
  const location = clean + url.search;
  const headers: Record<string, string> = { location };
  if (req.method !== "GET" && req.method !== "HEAD") return new Response(null, { status: 301, headers });
  headers["content-type"] = "text/html; charset=utf-8";
  const href = location.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&#34;").replaceAll("'", "&#39;");
  return new Response(`<a href="${href}">Moved Permanently</a>.\n\n`, { status: 301, headers });
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
