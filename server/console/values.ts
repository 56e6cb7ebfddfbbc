/**
 * How the web console shows a value (pure functions): as text, as pretty-printed JSON, or as a
 * hex dump for binary data.
 */

/** The value views offered. */
export type ValueView = "text" | "json" | "hex";

/** Whether `data` is valid UTF-8 without control characters other than tab, newline and carriage return. */
export function looksLikeText(data: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

/** The view to open a value in: JSON when it parses as an object or array, text when it is text, else hex. */
export function defaultView(data: Uint8Array): ValueView {
  if (!looksLikeText(data)) return "hex";
  const t = new TextDecoder().decode(data).trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      JSON.parse(t);
      return "json";
    } catch {
      return "text";
    }
  }
  return "text";
}

/**
 * `data` rendered in `view`: text (UTF-8, invalid bytes as U+FFFD); JSON indented by two spaces
 * (or `invalid JSON: <message>` followed by the text); hex as lines of 16 bytes with the offset
 * and printable ASCII (`00000000  68 69  |hi|`).
 */
export function renderValue(data: Uint8Array, view: ValueView): string {
  const text = new TextDecoder().decode(data);
  if (view === "text") return text;
  if (view === "json") {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      return `invalid JSON: ${(e as Error).message}\n\n${text}`;
    }
  }
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${off.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join("\n");
}
