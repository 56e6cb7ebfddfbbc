/**
 * Go's ServeMux handling of unclean paths (`//`, `.`, `..`) in front of etcd's v2 handlers:
 * such a request is redirected (301) to the clean path instead of being served.
 */
import { cleanPath } from "../../v2store/path.ts";

/** Go's ServeMux cleanPath: path.Clean, keeping a trailing slash. */
export function goMuxCleanPath(p: string): string {
  const cleaned = cleanPath(p);
  return p.endsWith("/") && cleaned !== "/" ? cleaned + "/" : cleaned;
}

/**
 * Go's ServeMux answer to a path that is not clean (`//`, `.`, `..`): 301 to the clean one, with
 * the query kept; the `<a href>` body and its content type only for GET and HEAD (http.Redirect).
 */
export function redirectToCleanPath(req: Request): Response | undefined {
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
