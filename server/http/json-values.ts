/**
 * Incremental reader of a stream of JSON values (concatenated or newline-separated objects,
 * as grpc-gateway's streaming endpoints read request bodies with Go's json.Decoder). Text is
 * pushed as it arrives; each complete top-level value is parsed once its closing bracket is in.
 */

/** A JSON syntax error, with Go's encoding/json wording where it is simple to match. */
export class JsonSyntaxError extends Error {}

/** Go's `invalid character 'x' looking for beginning of value`. */
function invalidStart(c: string): JsonSyntaxError {
  return new JsonSyntaxError(`invalid character ${JSON.stringify(c).replace(/^"|"$/g, "'")} looking for beginning of value`);
}

/** Splits pushed text into JSON values; see the module doc. */
export class JsonValueReader {
  private buf = "";
  private pos = 0;
  private depth = 0;
  private start = -1;
  private inString = false;
  private escaped = false;

  /**
   * Adds `text` and returns the values completed by it, in order.
   * @throws JsonSyntaxError for a value that does not start with `{`/`[` or does not parse
   */
  push(text: string): unknown[] {
    this.buf += text;
    const out: unknown[] = [];
    for (; this.pos < this.buf.length; this.pos++) {
      const c = this.buf[this.pos]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === "\\") this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
        if (c !== "{" && c !== "[") throw invalidStart(c);
      }
      if (c === '"') this.inString = true;
      else if (c === "{" || c === "[") {
        if (this.depth++ === 0) this.start = this.pos;
      } else if ((c === "}" || c === "]") && --this.depth === 0) {
        out.push(this.parse(this.buf.slice(this.start, this.pos + 1)));
        this.buf = this.buf.slice(this.pos + 1);
        this.pos = -1;
        this.start = -1;
      }
    }
    return out;
  }

  /** Whether a value has begun but not ended (at end of input: Go's `unexpected EOF`). */
  get partial(): boolean {
    return this.depth > 0;
  }

  private parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new JsonSyntaxError(e instanceof Error ? e.message : String(e));
    }
  }
}
