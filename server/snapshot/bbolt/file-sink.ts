/**
 * A {@link PageSink} writing pages to an open file descriptor at `pgid * pageSize` (positional
 * writes, so the meta pages can be written last). Runs under Bun and Deno (node:fs).
 */
import { writeSync } from "node:fs";
import type { PageSink } from "./writer.ts";

/** Writes pages of `pageSize` bytes to file descriptor `fd`. Errors of writeSync are thrown as they are. */
export class FileSink implements PageSink {
  /** Bytes written (all pages, meta pages included). */
  bytesWritten = 0;

  constructor(
    private readonly fd: number,
    private readonly pageSize: number,
  ) {}

  writePages(pgid: number, bytes: Uint8Array): void {
    let done = 0;
    const at = pgid * this.pageSize;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
    this.bytesWritten += bytes.length;
  }
}
