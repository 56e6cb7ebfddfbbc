/**
 * The HTTP/1.1 fast path of `/v2/keys` writes (PUT, POST, DELETE): served on node:http's own
 * request and response, without building a Web Request and Response and routing through hono
 * (what `v2 set` spent most of its HTTP time on). The answer is the same as the hono route's:
 * both call {@link answerKeys} (server/http/v2/keys.ts). Everything else (reads, watches,
 * other methods, paths Go's mux would redirect, absolute-form targets) goes on to hono.
 * Before node:http sees a connection, {@link keysFastPath} answers these writes straight off it
 * (server/http/http1-fast-path.ts); what reaches this path are the writes on connections that
 * fast path handed over, and all of them when `--host-whitelist` is set.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { answerKeys, type KeysAnswer, type KeysDeps } from "./keys.ts";
import type { FormRequest } from "./form.ts";
import { goMuxCleanPath } from "./clean-path.ts";
import { ListenerCancellation } from "../../api/call-cancellation.ts";
import type { FastAnswer, Http1FastPath } from "../http1-fast-path.ts";
import { setCorsHeaders, type CorsOrigins } from "../cors.ts";

const KEYS_PREFIX = "/v2/keys";

/** The methods served here: those that never answer with a watch. */
const FAST_METHODS = new Set(["PUT", "POST", "DELETE"]);

/**
 * Whether the request target `url` (`/v2/keys...?query`) is served here: under `/v2/keys`,
 * a path Go's ServeMux serves as is (decodes, already clean), no `\` or `#` (which WHATWG URL
 * parsing, used by the hono route, would treat differently from a plain split).
 */
export function isFastKeysTarget(method: string, url: string): boolean {
  if (!FAST_METHODS.has(method) || !url.startsWith(KEYS_PREFIX)) return false;
  const next = url.charCodeAt(KEYS_PREFIX.length);
  if (!Number.isNaN(next) && next !== 0x2f /* / */ && next !== 0x3f /* ? */) return false;
  if (url.includes("\\") || url.includes("#")) return false;
  const path = url.split("?", 1)[0]!;
  let decoded = path;
  if (path.includes("%")) {
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return false;
    }
  }
  return goMuxCleanPath(decoded) === decoded;
}

/**
 * The request body as text. node:http calls the handler at the end of the request's headers and
 * parses the body after it within the same socket read: by the next microtask, a body that came
 * with its headers is there in full (`complete`) and buffered, and one `read()` takes it all, with
 * no 'data'/'end' listeners and no flowing mode (whose events and ticks cost about 4% of a
 * v2-set-loaded member's samples). A body still arriving is read from its events.
 */
export function readText(req: IncomingMessage): Promise<string> {
  return Promise.resolve().then(() => {
    if (!req.complete || req.readableFlowing !== null || req.destroyed) return readTextFromEvents(req);
    const body = req.read() as Buffer | null;
    return body === null ? "" : body.toString("utf8");
  });
}

/** The request body as text, read from the stream's events (node:http hands it over in chunks). */
function readTextFromEvents(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

/**
 * Writes `a` (on top of the CORS headers the access controller set); its headers come in name
 * order already (KeysAnswer), as the hono route's Web Headers (and Go's Header.Write) have them.
 */
function writeAnswer(res: ServerResponse, a: KeysAnswer): void {
  res.statusCode = a.status;
  const headers = a.headers;
  for (const name in headers) res.setHeader(name, headers[name]!);
  // The text as it is: node:http encodes it as UTF-8 when writing it (a Buffer made here first
  // cost about 3% of a v2-set-loaded member's samples), and, as the whole body is given to
  // end() with no Content-Length set and the head not written before (no writeHead), writes
  // the encoded length as the Content-Length (counting the UTF-8 bytes here as well was 1%).
  const body = a.body ?? undefined;
  // Head and body in one send: corked, node:http's writes to the socket go out together.
  const socket = res.socket;
  socket?.cork();
  res.end(body);
  socket?.uncork();
}

/**
 * Serves `req` when {@link isFastKeysTarget} says so and returns true; otherwise returns false
 * and leaves the request untouched. An unexpected failure answers hono's 500
 * `Internal Server Error`.
 */
export function serveKeysOnNode(req: IncomingMessage, res: ServerResponse, deps: KeysDeps): boolean {
  const url = req.url ?? "";
  const method = req.method ?? "";
  if (!isFastKeysTarget(method, url)) return false;
  // Aborted when the response closes unwritten (the client went away).
  const cancellation = new ListenerCancellation();
  res.on("close", () => {
    if (!res.writableFinished) cancellation.abort();
  });
  const form: FormRequest = {
    method,
    url,
    headers: { get: (name) => (req.headers[name] as string | undefined) ?? null },
    text: () => readText(req),
  };
  answerKeys(form, deps, cancellation).then(
    (a) => {
      // A watch is a GET: never answered to the methods served here.
      if ("watcher" in a) throw new Error("v2 keys fast path: unexpected watch");
      writeAnswer(res, a);
    },
    () => {
      if (res.headersSent) return void res.destroy();
      writeAnswer(res, { status: 500, headers: { "content-type": "text/plain; charset=UTF-8" }, body: "Internal Server Error" });
    },
  );
  return true;
}

/**
 * The `/v2/keys` writes of {@link isFastKeysTarget} as served straight off the connection
 * (server/http/http1-fast-path.ts): the same answer as {@link serveKeysOnNode}, with the CORS
 * headers etcd's access controller adds (rpc-handler.ts sets them for node:http), in node:http's
 * order. The caller adds the connection parts (`handOff`, node:http's settings).
 */
export function keysFastPath(deps: KeysDeps, cors: CorsOrigins): Pick<Http1FastPath, "takes" | "answer"> {
  return {
    takes: isFastKeysTarget,
    async answer(req, signal): Promise<FastAnswer> {
      const form: FormRequest = { method: req.method, url: req.url, headers: { get: req.header }, text: async () => req.body };
      const a = await answerKeys(form, deps, signal);
      // A watch is a GET: never answered to the methods served here.
      if ("watcher" in a) throw new Error("v2 keys fast path: unexpected watch");
      const headers: [string, string][] = [];
      setCorsHeaders({ setHeader: (name, value) => headers.push([name, value]) }, cors, req.header("origin") ?? undefined, false);
      for (const name in a.headers) headers.push([name, a.headers[name]!]);
      return { status: a.status, headers, body: a.body };
    },
  };
}
