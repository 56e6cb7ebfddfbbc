/**
 * `GET /ui` and `/ui/*` on the client port: the web console (server/console/ui/), a page that
 * talks to the member only through the public API (Connect protocol, connect-web). `/ui` is
 * redirected to `/ui/`; `/ui/` and any unknown `/ui/...` path serve `index.html` (the console
 * routes with the URL fragment); the script and style sheet are served by name. Bodies are sent
 * gzip-compressed to clients that accept it. A Content-Security-Policy allows only this origin
 * and, for API calls, the client URLs of the cluster's members (the cluster page reads each
 * member's status), so the page makes no other requests.
 */
import type { Hono } from "hono";
import { consoleAssets, type ConsoleAsset } from "./assets.ts";

/**
 * The page's Content-Security-Policy: scripts, styles and images from this origin only (data:
 * images for the empty icon); API calls to this origin and to the origins of `memberClientUrls`.
 */
export function consoleCsp(memberClientUrls: readonly string[]): string {
  const origins = new Set<string>();
  for (const u of memberClientUrls) {
    try {
      origins.add(new URL(u).origin);
    } catch {
      // not a URL: left out
    }
  }
  const connect = ["'self'", ...origins].join(" ");
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;
}

function send(asset: ConsoleAsset, acceptEncoding: string, method: string, csp: string): Response {
  const gzip = /\bgzip\b/i.test(acceptEncoding);
  const body = gzip ? asset.gzip : asset.plain();
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "content-length": String(body.byteLength),
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
    vary: "accept-encoding",
  };
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(method === "HEAD" ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers });
}

/**
 * Mounts the console on `app` (GET and HEAD; other methods fall through to the app's 404).
 * `memberClientUrls` gives the client URLs of the current members (for the CSP).
 */
export function mountConsole(app: Hono, memberClientUrls: () => string[]): void {
  app.on(["GET", "HEAD"], "/ui", (c) => c.redirect("/ui/", 301));
  app.on(["GET", "HEAD"], "/ui/*", async (c) => {
    let assets: Map<string, ConsoleAsset>;
    try {
      assets = await consoleAssets();
    } catch (e) {
      return c.text(`web console unavailable: ${(e as Error).message}\n`, 500);
    }
    const name = c.req.path.slice("/ui/".length);
    const asset = assets.get(name) ?? assets.get("index.html")!;
    let urls: string[] = [];
    try {
      urls = memberClientUrls();
    } catch {
      // a learner cannot list members: API calls to this origin only
    }
    return send(asset, c.req.header("accept-encoding") ?? "", c.req.method, consoleCsp(urls));
  });
}
