/**
 * Byte-exact stdout/stderr for the CLI. Keys and values are raw bytes that may not be UTF-8, so
 * everything is written as `Uint8Array`; strings are UTF-8 encoded. Stdout is coalesced into large
 * writes (a 20000-key range would otherwise cost 40000 writes); stderr goes straight through after
 * pending stdout. `flush()` writes what is buffered and waits until the streams took everything:
 * call it before blocking on input (txn prompts) and before the process exits.
 */
import process from "node:process";
import { utf8 } from "./go/utf8.ts";

/** One chunk of output: text (UTF-8 encoded on write) or raw bytes. */
export type Chunk = string | Uint8Array;

/** Where bytes go: the real process streams, or a capture in tests. */
export type Writer = (stream: "stdout" | "stderr", bytes: Uint8Array) => Promise<void>;

/** Writes to the process's stdout/stderr, resolving when the runtime has accepted the bytes. */
export const processWriter: Writer = (stream, bytes) =>
  new Promise((resolve) => {
    const target = stream === "stdout" ? process.stdout : process.stderr;
    target.write(bytes, () => resolve());
  });

function concat(chunks: Chunk[]): Uint8Array {
  const parts = chunks.map((c) => (typeof c === "string" ? utf8(c) : c));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Stdout bytes buffered before a write is issued. */
const COALESCE_BYTES = 64 * 1024;

/** The CLI's two output streams. */
export class Output {
  private pending: Promise<void>[] = [];
  private buffered: Chunk[] = [];
  private bufferedBytes = 0;

  /** @param writer destination of the bytes (defaults to the process streams) */
  constructor(private readonly writer: Writer = processWriter) {}

  private writeBuffered(): void {
    if (this.buffered.length === 0) return;
    this.pending.push(this.writer("stdout", concat(this.buffered)));
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  /** Writes the chunks, concatenated, to stdout (Go's `fmt.Print` of pre-joined parts). */
  print(...chunks: Chunk[]): void {
    for (const c of chunks) {
      const bytes = typeof c === "string" ? utf8(c) : c;
      this.buffered.push(bytes);
      this.bufferedBytes += bytes.length;
    }
    if (this.bufferedBytes >= COALESCE_BYTES) this.writeBuffered();
  }

  /** Writes the chunks and a newline to stdout. */
  println(...chunks: Chunk[]): void {
    this.print(...chunks, "\n");
  }

  /** Writes the chunks and a newline to stderr. */
  eprintln(...chunks: Chunk[]): void {
    this.eprint(...chunks, "\n");
  }

  /** Writes the chunks to stderr as they are (Go's `fmt.Fprintf(os.Stderr, ...)` without a newline). */
  eprint(...chunks: Chunk[]): void {
    this.writeBuffered();
    this.pending.push(this.writer("stderr", concat(chunks)));
  }

  /** Writes buffered stdout and resolves once every write so far has been handed to the streams. */
  async flush(): Promise<void> {
    this.writeBuffered();
    await Promise.all(this.pending);
  }
}

/** An Output that records what was written, for tests of printers and parsers. */
export function captureOutput(): { out: Output; stdout: () => Uint8Array; stderr: () => string } {
  const bufs = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
  const out = new Output(async (stream, bytes) => {
    bufs[stream].push(bytes);
  });
  return {
    out,
    stdout: () => concat(bufs.stdout),
    stderr: () => new TextDecoder().decode(concat(bufs.stderr)),
  };
}
