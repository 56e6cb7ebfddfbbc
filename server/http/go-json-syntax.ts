/**
 * The text Go's `encoding/json` Decoder gives for malformed JSON (encoding/json/scanner.go), for the
 * gateway's error bodies: `invalid character 'b' looking for beginning of object key string`,
 * `unexpected EOF`, and so on. Only the first value of the input is checked, as the gateway
 * decodes one request object.
 */

/** Go's `quoteChar`: `'x'`, with `'\''` and `'"'` spelled as Go does. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const code = c.codePointAt(0)!;
  if (code < 0x20) return `'\\x${code.toString(16).padStart(2, "0")}'`;
  return `'${c}'`;
}

const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r";
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

class SyntaxFailure extends Error {}

/**
 * The error Go's json.Decoder reports for the first JSON value in `text`, or undefined when that
 * value is well-formed.
 */
export function goJsonSyntaxError(text: string): string | undefined {
  let i = 0;
  const fail = (context: string): never => {
    if (i >= text.length) throw new SyntaxFailure("unexpected EOF");
    throw new SyntaxFailure(`invalid character ${quoteChar(text[i]!)} ${context}`);
  };
  const skip = () => {
    while (i < text.length && isSpace(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
    i++;
  };
  const string = () => {
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail("");
      if (c === '"') return void i++;
      if (c === "\\") {
        i++;
        const e = text[i];
        if (e === undefined) fail("");
        if (e === "u") {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail("in \\u hexadecimal character escape");
          }
        } else if (!'"\\/bfnrt'.includes(e!)) fail("in string escape code");
      } else if (c < " ") fail("in string literal");
      i++;
    }
  };
  const number = () => {
    if (text[i] === "-") {
      i++;
      if (!isDigit(text[i])) fail("in numeric literal");
    }
    if (text[i] === "0") i++;
    else while (isDigit(text[i])) i++;
    if (text[i] === ".") {
      i++;
      if (!isDigit(text[i])) fail("after decimal point in numeric literal");
      while (isDigit(text[i])) i++;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!isDigit(text[i])) fail("in exponent of numeric literal");
      while (isDigit(text[i])) i++;
    }
  };
  const value = (): void => {
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      skip();
      if (text[i] === "}") return void i++;
      for (;;) {
        skip();
        if (text[i] !== '"') fail("looking for beginning of object key string");
        string();
        skip();
        if (text[i] !== ":") fail("after object key");
        i++;
        value();
        skip();
        if (text[i] === "}") return void i++;
        if (text[i] !== ",") fail("after object key:value pair");
        i++;
      }
    }
    if (c === "[") {
      i++;
      skip();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        skip();
        if (text[i] === "]") return void i++;
        if (text[i] !== ",") fail("after array element");
        i++;
      }
    }
    if (c === '"') return string();
    if (c === "-" || isDigit(c)) return number();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    fail("looking for beginning of value");
  };
  try {
    value();
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxFailure) return e.message;
    throw e;
  }
}
