/**
 * `GET /ui` and `/ui/*` on the client port: the web console (server/console/ui/), a page that
 * talks to the member only through the public API (Connect protocol, connect-web). `/ui` is
 * redirected to `/ui/`; `/ui/` and any unknown `/ui/...` path serve `index.html` (the console
 * routes with the URL fragment); the script and style sheet are served by name. Bodies are sent
 * gzip-compressed to clients that accept it. A Content-Security-Policy allows only this origin,
 * so the page makes no external requests.
 */
import type { Hono } from "hono";
import { consoleAssets, type ConsoleAsset } from "./assets.ts";

/** Only this origin: scripts, styles, fetches (the API), images (data: for icons). */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function send(asset: ConsoleAsset, acceptEncoding: string, method: string): Response {
  const gzip = /\bgzip\b/i.test(acceptEncoding);
  const body = gzip ? asset.gzip : asset.plain();
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "content-length": String(body.byteLength),
    "content-security-policy": CONSOLE_CSP,
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
    vary: "accept-encoding",
  };
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(method === "HEAD" ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers });
}

/** Mounts the console on `app` (GET and HEAD; other methods fall through to the app's 404). */
export function mountConsole(app: Hono): void {
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
    return send(asset, c.req.header("accept-encoding") ?? "", c.req.method);
  });
}
