/**
 * The parts of Go's `net/url.Parse` and `net.SplitHostPort` that etcd's URL checks rely on
 * (etcd `pkg/types.NewURLs`, used by clientv3 before MemberAdd/MemberUpdate): scheme, opaque
 * part, host and unescaped path, with Go's error texts such as
 * `parse "127.0.0.1:2380": first path segment in URL cannot contain colon`,
 * `parse "http://[::1": missing ']' in host`, `parse "http://a b:1": invalid character " " in host name`.
 * Query and fragment are split off and only checked for bad `%` escapes; user info is checked as Go does.
 */
import { goQuote } from "./strconv.ts";

/** What {@link goParseUrl} keeps of a URL (the fields etcd looks at). */
export interface GoUrl {
  /** Lower-cased scheme, `""` when there is none. */
  scheme: string;
  /** Text after `scheme:` when it does not start with `/` (e.g. `2380` of `localhost:2380`). */
  opaque: string;
  /** Host and optional `:port`, unescaped. */
  host: string;
  /** Unescaped path. */
  path: string;
}

const isAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);
const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/** Host characters Go lets through unescaped besides letters, digits and bytes >= 0x80. */
const HOST_CHARS = new Set("-_.~!$&'()*+,;=:[]<>\"");
/** Characters of a valid user-info part besides letters and digits (Go's validUserinfo). */
const USERINFO_CHARS = new Set("-._:~!$&'()*+,;=%@");

/** Go's `unescape`: every `%` must be followed by two hex digits; in a host, only `%25` below `%80`. */
function unescape(s: string, host: boolean): string {
  let out = "";
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === "%") {
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) throw new Error(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      const code = parseInt(s.slice(i + 1, i + 3), 16);
      if (host && code < 0x80 && s.slice(i, i + 3) !== "%25") {
        throw new Error(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      out += String.fromCharCode(code);
      i += 3;
      continue;
    }
    if (host && c.charCodeAt(0) < 0x80 && !isAlnum(c) && !HOST_CHARS.has(c)) {
      throw new Error(`invalid character ${goQuote(c)} in host name`);
    }
    out += c;
    i++;
  }
  return out;
}

/** Go's `validOptionalPort`: empty, or `:` followed by digits only. */
function validOptionalPort(port: string): boolean {
  return port === "" || /^:[0-9]*$/.test(port);
}

/** Go's `parseHost` (IPv6 zones are not unescaped separately: only the bracket and port checks). */
function parseHost(host: string): string {
  if (host.startsWith("[")) {
    const end = host.lastIndexOf("]");
    if (end < 0) throw new Error("missing ']' in host");
    const colonPort = host.slice(end + 1);
    if (!validOptionalPort(colonPort)) throw new Error(`invalid port ${goQuote(colonPort)} after host`);
  } else {
    const i = host.lastIndexOf(":");
    if (i !== -1 && !validOptionalPort(host.slice(i))) throw new Error(`invalid port ${goQuote(host.slice(i))} after host`);
  }
  return unescape(host, true);
}

/** Go's `parseAuthority`: `[userinfo@]host`, returning the host. */
function parseAuthority(authority: string): string {
  const at = authority.lastIndexOf("@");
  const host = parseHost(authority.slice(at + 1));
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (![...userinfo].every((c) => isAlnum(c) || USERINFO_CHARS.has(c))) throw new Error("net/url: invalid userinfo");
    unescape(userinfo, false);
  }
  return host;
}

/** Go's `getScheme`: `[scheme, rest]`. */
function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return ["", raw];
      continue;
    }
    if (c === ":") {
      if (i === 0) throw new Error("missing protocol scheme");
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ["", raw];
  }
  return ["", raw];
}

/** Go's `parse(rawURL, viaRequest=false)` without the fragment. */
function parse(raw: string): GoUrl {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new Error("net/url: invalid control character in URL");
  const url: GoUrl = { scheme: "", opaque: "", host: "", path: "" };
  if (raw === "*") return { ...url, path: "*" };
  let [scheme, rest] = getScheme(raw);
  url.scheme = scheme.toLowerCase();
  if (rest.endsWith("?") && rest.indexOf("?") === rest.length - 1) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf("?");
    if (q >= 0) rest = rest.slice(0, q);
  }
  if (!rest.startsWith("/")) {
    if (url.scheme !== "") return { ...url, opaque: rest };
    if (rest.split("/")[0]!.includes(":")) throw new Error("first path segment in URL cannot contain colon");
  }
  if ((url.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) [authority, rest] = [authority.slice(0, slash), authority.slice(slash)];
    url.host = parseAuthority(authority);
  }
  url.path = unescape(rest, false);
  return url;
}

/**
 * Go's `url.Parse`.
 * @throws Error `parse "<url>": <reason>` as Go's `*url.Error` prints
 */
export function goParseUrl(raw: string): GoUrl {
  const hash = raw.indexOf("#");
  const main = hash < 0 ? raw : raw.slice(0, hash);
  let url: GoUrl;
  try {
    url = parse(main);
  } catch (e) {
    throw new Error(`parse ${goQuote(main)}: ${(e as Error).message}`);
  }
  if (hash >= 0) {
    try {
      unescape(raw.slice(hash + 1), false);
    } catch (e) {
      throw new Error(`parse ${goQuote(raw)}: ${(e as Error).message}`);
    }
  }
  return url;
}

/** Whether Go's `net.SplitHostPort` accepts `hostport` (a port, possibly empty, after the last colon). */
export function goSplitHostPortOk(hostport: string): boolean {
  const i = hostport.lastIndexOf(":");
  if (i < 0) return false;
  let j = 0;
  let k = 0;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0 || end + 1 !== i) return false;
    [j, k] = [1, end + 1];
  } else if (hostport.slice(0, i).includes(":")) return false;
  return !hostport.slice(j).includes("[") && !hostport.slice(k).includes("]");
}
