/**
 * A fast path for simple HTTP/1.1 requests on the client port, in front of node:http.
 *
 * Each cleartext HTTP/1.x connection (after cleartext-port.ts told it from HTTP/2) is parsed here
 * with the runtime's llhttp binding (`process.binding("http_parser")`, the parser node:http itself
 * uses). A request the caller's `takes` accepts is answered here: one socket write of the status
 * line, the headers and the body, in the bytes node:http would have written. Bun runs node:http
 * on a socket handed over by `emit("connection")` through a JavaScript fallback whose request and
 * response objects, stream events and Buffer copies were a quarter of a `v2 set`-loaded member's
 * main-thread samples.
 *
 * Everything else goes to node:http, which then owns the connection for good ({@link
 * Http1FastPath.handOff}): the bytes not answered yet are put back (unshift) first, once every
 * answer given here has been written, so answers stay in request order. That happens at the first
 * request not taken, a parse error (node:http answers it as it would have), and whenever one read
 * holds more than one request (pipelining: no request of it is answered here, as llhttp does not
 * tell where one ends).
 *
 * Taken requests are HTTP/1.1 keep-alive ones with a body of known length (`Content-Length`, no
 * `Transfer-Encoding`, `Expect` or `Upgrade`) up to {@link FAST_PATH_MAX_BODY_BYTES}. At most
 * {@link FAST_PATH_MAX_IN_FLIGHT} of them wait for their answers per connection; reading pauses
 * while the limit is reached.
 * Source: RFC 9112 §9.3 (persistent connections, pipelining); node:http's request parsing.
 */
import { STATUS_CODES } from "node:http";
import type * as net from "node:net";
import { ListenerCancellation } from "../api/call-cancellation.ts";

/** Bodies larger than this go to node:http, bytes. */
export const FAST_PATH_MAX_BODY_BYTES = 64 * 1024;
/** Requests of one connection answered here and not yet written, at most; reading pauses at the limit. */
export const FAST_PATH_MAX_IN_FLIGHT = 16;

/** A request taken by the fast path. */
export interface FastRequest {
  readonly method: string;
  /** The request target as sent (origin form: path and query). */
  readonly url: string;
  /** The first value of header `name` (lower case), or null. */
  header(name: string): string | null;
  /** The body, decoded as UTF-8. */
  readonly body: string;
}

/** What the fast path writes for a request: status, headers in order, body (null: empty). */
export interface FastAnswer {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  body: string | null;
}

/** What a connection's fast path is given. */
export interface Http1FastPath {
  /** Whether a request with this method and target (framing already checked) is answered here. */
  takes(method: string, url: string): boolean;
  /** Answers a taken request; `signal` is aborted when the connection closes first. A rejection answers 500. */
  answer(req: FastRequest, signal: ListenerCancellation): Promise<FastAnswer>;
  /** Gives the connection to node:http (`h1.emit("connection", socket)`), its unread bytes put back. */
  handOff(socket: net.Socket): void;
  /** node:http's `keepAliveTimeout` in seconds, as its `Keep-Alive: timeout=` says. */
  keepAliveTimeoutSecs: number;
  /** The parser's header limit, bytes; 0: its default (node:http's `maxHeaderSize`, 16 KiB), what node:http passes when not told. */
  maxHeaderSize: number;
}

/** The llhttp binding's surface used here (node's `process.binding("http_parser")`). */
interface ParserBinding {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    kOnMessageBegin: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
  methods: string[];
}
interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | Error;
  close(): void;
  [callback: number]: unknown;
}

const binding = (process as unknown as { binding(name: "http_parser"): ParserBinding }).binding("http_parser");
const { HTTPParser, methods } = binding;

/** A message being received. */
interface Message {
  /** Whether its head was parsed (then `taken` says whether the fast path answers it). */
  headed: boolean;
  taken: boolean;
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer[];
  complete: boolean;
}

/** The first value of `name` (lower case) in a raw header list (name, value, name, value, ...). */
function firstHeader(raw: readonly string[], name: string): string | null {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) return raw[i + 1]!;
  return null;
}

/**
 * Whether a message's framing is one the fast path handles (see the module doc): one pass over
 * its raw headers, each name lower-cased once.
 */
function simpleFraming(raw: readonly string[], major: number, minor: number, upgrade: boolean, keepAlive: boolean): boolean {
  if (major !== 1 || minor !== 1 || upgrade || !keepAlive) return false;
  let length = -1;
  let contentTypes = 0;
  let origins = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === "content-length") {
      if (length !== -1) return false;
      length = Number(raw[i + 1]);
    } else if (name === "transfer-encoding" || name === "expect") return false;
    else if (name === "content-type") contentTypes++;
    else if (name === "origin") origins++;
  }
  return contentTypes <= 1 && origins <= 1 && Number.isInteger(length) && length > 0 && length <= FAST_PATH_MAX_BODY_BYTES;
}

/** The `Date` header's value, made again when the second changes. */
let dateSecond = -1;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** The answer's bytes as node:http writes them for `res.end(body)` on a keep-alive connection. */
function answerText(a: FastAnswer, keepAliveTimeoutSecs: number): string {
  let out = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? "unknown"}\r\n`;
  for (const [name, value] of a.headers) out += `${name}: ${value}\r\n`;
  const body = a.body ?? "";
  out += `Date: ${httpDate()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=${keepAliveTimeoutSecs}\r\n`;
  return out + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body;
}

/** Hono's answer to a handler that failed unexpectedly. */
const INTERNAL_ERROR: FastAnswer = { status: 500, headers: [["content-type", "text/plain; charset=UTF-8"]], body: "Internal Server Error" };

/**
 * Serves the HTTP/1.x connection `socket` (its first bytes not read yet, or put back) through the
 * fast path until it hands it to node:http; see the module doc.
 */
export function serveHttp1Connection(socket: net.Socket, path: Http1FastPath): void {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, path.maxHeaderSize, 0);
  /** Bytes read since the last point known to lie between two messages. */
  let unanswered: Buffer[] = [];
  /** Messages begun within `unanswered`. */
  let begun: Message[] = [];
  let current: Message | null = null;
  let handingOff = false;
  let inFlight = 0;
  let written: Promise<void> = Promise.resolve();
  const open = new Set<ListenerCancellation>();

  parser[HTTPParser.kOnMessageBegin] = () => {
    current = { headed: false, taken: false, method: "", url: "", rawHeaders: [], body: [], complete: false };
    begun.push(current);
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    major: number,
    minor: number,
    rawHeaders: string[],
    method: number,
    url: string,
    _status: unknown,
    _message: unknown,
    upgrade: boolean,
    keepAlive: boolean,
  ) => {
    const m = current;
    if (!m) return 0;
    m.method = methods[method] ?? "";
    m.url = url;
    m.rawHeaders = rawHeaders;
    m.headed = true;
    try {
      m.taken = simpleFraming(rawHeaders, major, minor, upgrade, keepAlive) && path.takes(m.method, url);
    } catch {
      // Thrown out of the parser, it would escape the socket's data event: node:http decides instead.
      m.taken = false;
    }
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    if (current?.taken) current.body.push(chunk);
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current) current.complete = true;
    current = null;
  };

  let parserClosed = false;
  const closeParser = () => {
    if (parserClosed) return;
    parserClosed = true;
    parser.close();
  };
  const onClose = () => {
    for (const c of open) c.abort();
    closeParser();
  };

  /** Once every answer given here is written: put the unanswered bytes back and hand over. */
  const handOff = () => {
    if (handingOff) return;
    handingOff = true;
    // Nothing more is read until node:http has the connection (the bytes kept stay bounded).
    socket.pause();
    void written.then(() => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onClose);
      closeParser();
      if (socket.destroyed) return;
      if (unanswered.length > 0) socket.unshift(unanswered.length === 1 ? unanswered[0]! : Buffer.concat(unanswered));
      unanswered = [];
      path.handOff(socket);
      if (socket.isPaused()) socket.resume();
    });
  };

  const serve = (m: Message) => {
    const signal = new ListenerCancellation();
    open.add(signal);
    const body = m.body.length === 1 ? m.body[0]!.toString("utf8") : Buffer.concat(m.body).toString("utf8");
    const raw = m.rawHeaders;
    const answer = path.answer({ method: m.method, url: m.url, header: (name) => firstHeader(raw, name), body }, signal).catch(() => INTERNAL_ERROR);
    if (++inFlight >= FAST_PATH_MAX_IN_FLIGHT) socket.pause();
    written = written.then(async () => {
      const a = await answer;
      open.delete(signal);
      try {
        if (!socket.destroyed) socket.write(answerText(a, path.keepAliveTimeoutSecs));
      } catch {
        // An answer that cannot be written ends the connection; later ones are not written either.
        socket.destroy();
      }
      if (--inFlight < FAST_PATH_MAX_IN_FLIGHT && !handingOff && socket.isPaused()) socket.resume();
    });
  };

  function onData(chunk: Buffer): void {
    unanswered.push(chunk);
    if (handingOff) return;
    const result = parser.execute(chunk);
    if (result instanceof Error) return handOff();
    if (begun.length === 0) {
      // Nothing but bytes between messages (llhttp skips empty lines there).
      unanswered = [];
      return;
    }
    const m = begun[0]!;
    if (begun.length > 1 || (m.headed && !m.taken)) return handOff();
    if (!m.complete) return;
    unanswered = [];
    begun = [];
    serve(m);
  }

  /** The client's end of input: the connection ends once the answers given here are written (node:http ends it at once). */
  function onEnd(): void {
    if (!handingOff) void written.then(() => socket.end());
  }

  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("close", onClose);
}
