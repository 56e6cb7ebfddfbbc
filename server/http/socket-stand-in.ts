/**
 * The part the HTTP/2 connection repairs share (authority-repair.ts, window-repair.ts): a
 * Duplex that stands in for a client socket before the HTTP/2 server
 * (`h2.emit("connection", standIn)`). Reads are the client's bytes as the subclass passes them
 * on ({@link SocketStandIn.forward}), writes go to the socket; ending or destroying one ends or
 * destroys the other, and the socket is paused while the server does not read.
 */
import { Duplex } from "node:stream";
import type * as net from "node:net";

export abstract class SocketStandIn extends Duplex {
  constructor(protected readonly socket: net.Socket) {
    super();
  }

  /**
   * The socket this stream reads and writes (a tls.TLSSocket on a TLS listener): where the
   * client certificate's common name is read for auth (server/api/auth-context.ts).
   */
  get underlyingSocket(): net.Socket {
    return this.socket;
  }

  /**
   * Starts reading: `initial` (bytes already read from the socket, server/http/h2-handover.ts)
   * first, then the socket's. Call once, at the end of the subclass constructor.
   */
  protected start(initial?: Buffer): void {
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("end", () => this.push(null));
    this.socket.on("close", () => this.destroy());
    this.socket.on("error", (e) => this.destroy(e));
    if (initial && initial.length > 0) this.onData(initial);
  }

  /** The client's next bytes. */
  protected abstract onData(chunk: Buffer): void;

  /** The server's next bytes, seen before they go to the socket unchanged. */
  protected onServerBytes(_chunk: Buffer): void {}

  /** Hands `chunk` to the HTTP/2 server. */
  protected forward(chunk: Buffer): void {
    if (chunk.length > 0 && !this.push(chunk)) this.socket.pause();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.onServerBytes(chunk);
    // Done once the socket took it, unless its buffer is full: waiting for each write's own
    // callback would let the server hand over one chunk per event-loop turn.
    if (this.socket.write(chunk)) callback();
    else this.socket.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
