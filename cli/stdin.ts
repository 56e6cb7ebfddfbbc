/**
 * Standard input as etcdctl reads it: all at once (`put <key>` without a value) or line by line
 * (`txn`, Go's `bufio.Reader.ReadString('\n')`). Opened lazily so commands that never read stdin
 * do not touch it.
 */
import process from "node:process";

/** Lazy reader of the process's standard input (or a fixed byte source in tests). */
export class Stdin {
  private iterator: AsyncIterator<Uint8Array> | undefined;
  private buffered = new Uint8Array(0);
  private ended = false;

  /** @param source chunks to read; defaults to `process.stdin` */
  constructor(private readonly source: () => AsyncIterable<Uint8Array> = () => process.stdin) {}

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    this.iterator ??= this.source()[Symbol.asyncIterator]();
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = new Uint8Array(next.value);
    const merged = new Uint8Array(this.buffered.length + chunk.length);
    merged.set(this.buffered);
    merged.set(chunk, this.buffered.length);
    this.buffered = merged;
    return true;
  }

  /** Everything not read yet, up to end of input (Go's `ioutil.ReadAll(os.Stdin)`). */
  async readAll(): Promise<Uint8Array> {
    while (await this.fill());
    const all = this.buffered;
    this.buffered = new Uint8Array(0);
    return all;
  }

  /**
   * The bytes up to the next `\n` (not included) or, when input ends first, up to the end
   * (`newline` false); read one line at a time, so a terminal is not read past the line.
   */
  async readLineBytes(): Promise<{ line: Uint8Array; newline: boolean }> {
    for (;;) {
      const nl = this.buffered.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        return { line, newline: true };
      }
      if (!(await this.fill())) {
        const line = this.buffered;
        this.buffered = new Uint8Array(0);
        return { line, newline: false };
      }
    }
  }

  /**
   * The next line including its `\n`, or `null` when input ends before a `\n`
   * (where Go's `ReadString('\n')` returns `io.EOF`, even after a partial line).
   */
  async readLine(): Promise<string | null> {
    for (;;) {
      const nl = this.buffered.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.buffered.subarray(0, nl + 1);
        this.buffered = this.buffered.slice(nl + 1);
        return new TextDecoder().decode(line);
      }
      if (!(await this.fill())) return null;
    }
  }
}

/** A Stdin over fixed text, for tests. */
export function stdinFrom(text: string): Stdin {
  return new Stdin(async function* () {
    yield new TextEncoder().encode(text);
  });
}
