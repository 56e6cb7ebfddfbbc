/**
 * Which client connections are TLS, for checks etcd skips on them (`--host-whitelist`): the
 * listener marks a TLS socket, and the stream HTTP/2 runs over, when it accepts them; a request
 * finds the mark through `req.socket` (HTTP/1.1) or its HTTP/2 session's socket.
 */
const SECURE = Symbol("etcd-ts.secure-connection");

/** Marks a socket or stream as a TLS connection. */
export function markSecureConnection(target: object): void {
  (target as Record<symbol, boolean>)[SECURE] = true;
}

function isMarked(target: unknown): boolean {
  if (target === null || typeof target !== "object") return false;
  try {
    return (target as Record<symbol, boolean>)[SECURE] === true;
  } catch {
    return false; // a socket proxy of a closed HTTP/2 session
  }
}

/** Whether `req` came on a TLS connection (an IncomingMessage or Http2ServerRequest). */
export function isSecureRequest(req: { socket?: unknown; stream?: { session?: { socket?: unknown } } }): boolean {
  return isMarked(req.socket) || isMarked(req.stream?.session?.socket);
}
