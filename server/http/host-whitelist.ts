/**
 * `--host-whitelist` as etcd 3.4 (embed/serve.go accessController, etcdserver/server_access_control.go):
 * an HTTP request on a cleartext connection whose `Host` (HTTP/2: `:authority`) names a host not in
 * the list is refused with `421 Misdirected Request` and etcd's CVE-2018-5702 text, as Go's
 * `http.Error` writes it, to stop DNS rebinding. An empty list or `*` allows every host (the
 * default); TLS connections are never checked. Plain gRPC bypasses the check, as in etcd.
 */
import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { goQuote } from "../../cli/go/strconv.ts";
import { splitHostPort } from "../config.ts";

/** Status etcd answers with (Go's http.StatusMisdirectedRequest). */
export const MISDIRECTED_REQUEST = 421;

/** Whether `whitelist` allows every host (empty, or `*`: the default), so no Host needs reading. */
export function allowsEveryHost(whitelist: readonly string[]): boolean {
  return whitelist.length === 0 || whitelist.includes("*");
}

/** etcd's AccessController.IsHostWhitelisted. */
export function isHostWhitelisted(whitelist: readonly string[], host: string): boolean {
  return allowsEveryHost(whitelist) || whitelist.includes(host);
}

/** etcd's httputil.GetHostname: the host part of `Host`, or all of it when it has no port. */
export function requestHostname(hostHeader: string): string {
  return splitHostPort(hostHeader)?.host ?? hostHeader;
}

/** etcd's errCVE20185702 text for `host` (the body adds the newline of Go's http.Error). */
export function refusalText(host: string): string {
  return `
etcd received your request, but the Host header was unrecognized.

To fix this, choose one of the following options:
- Enable TLS, then any HTTPS request will be allowed.
- Add the hostname you want to use to the whitelist in settings.
  - e.g. etcd --host-whitelist ${goQuote(host)}

This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).
`;
}

/** Writes etcd's refusal as Go's `http.Error(rw, errCVE20185702(host), 421)`. */
export function refuseHost(res: ServerResponse | Http2ServerResponse, host: string): void {
  const body = refusalText(host) + "\n";
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("content-length", String(Buffer.byteLength(body)));
  (res as ServerResponse).writeHead(MISDIRECTED_REQUEST);
  res.end(body);
}
