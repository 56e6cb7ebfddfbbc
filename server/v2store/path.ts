/** Key paths of the v2 store, cleaned as Go's `path.Clean(path.Join("/", p))` does. */

/**
 * Whether `p` is clean already: `/`, or `/`-separated components that are neither empty nor `.`
 * nor `..` (every key of a plain write: checked without splitting it).
 */
function isClean(p: string): boolean {
  if (p === "/") return true;
  if (p.charCodeAt(0) !== 0x2f || p.charCodeAt(p.length - 1) === 0x2f) return false;
  return !p.includes("//") && !p.includes("/./") && !p.includes("/../") && !p.endsWith("/.") && !p.endsWith("/..");
}

/** Go's path.Clean of `"/" + p`: no empty, `.` or `..` components, no trailing slash; `/` for the root. */
export function cleanPath(p: string): string {
  if (isClean(p)) return p;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** Splits a clean path into its parent directory and last component (`/a/b` → [`/a`, `b`]; `/` → [`/`, ``]). */
export function splitPath(p: string): [string, string] {
  const i = p.lastIndexOf("/");
  return [i <= 0 ? "/" : p.slice(0, i), p.slice(i + 1)];
}

/** `dir` + `/` + `name` for a clean `dir`. */
export function joinPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}
