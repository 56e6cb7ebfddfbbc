/**
 * The ASCII table layout of `github.com/olekukonko/tablewriter` with the settings etcdctl uses
 * (`printer_table.go`): borders, header centred and upper-cased, cells right-aligned, cells wider
 * than 30 columns word-wrapped (minimum-raggedness, as tablewriter's `WrapString`).
 */

const MAX_COL_WIDTH = 30;

const WIDE_RANGES: Array<[number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cc}\p{Cf}]$/u;
const ANSI = /\x1b\[(?:[0-9]{1,3}(?:;[0-9]{1,3})*)?[m|K]/g;

/** Terminal columns of a string (go-runewidth: wide East Asian runes 2, combining marks 0). */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s.replace(ANSI, "")) {
    const c = ch.codePointAt(0)!;
    if (ZERO_WIDTH.test(ch)) continue;
    width += WIDE_RANGES.some(([lo, hi]) => c >= lo && c <= hi) ? 2 : 1;
  }
  return width;
}

/** tablewriter's `WrapWords`: splits words into lines minimising the squared slack. */
function wrapWords(words: string[], lim: number): string[][] {
  const n = words.length;
  const width = words.map(displayWidth);
  const length = (i: number, j: number) => {
    let total = width[i]!;
    for (let k = i + 1; k <= j; k++) total += 1 + width[k]!;
    return total;
  };
  const breakAt = new Array<number>(n).fill(0);
  const cost = new Array<number>(n).fill(2 ** 31 - 1);
  for (let i = n - 1; i >= 0; i--) {
    if (length(i, n - 1) <= lim) {
      cost[i] = 0;
      breakAt[i] = n;
      continue;
    }
    for (let j = i + 1; j < n; j++) {
      const d = lim - length(i, j - 1);
      let c = d * d + cost[j]!;
      if (length(i, j - 1) > lim) c += 1e5;
      if (c < cost[i]!) {
        cost[i] = c;
        breakAt[i] = j;
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; i = breakAt[i]!) lines.push(words.slice(i, breakAt[i]));
  return lines;
}

/** tablewriter's `WrapString`: wraps at spaces to `lim` columns (widened to the longest word). */
function wrapString(s: string, lim: number): string[] {
  const words = s.replaceAll("\n", " ").split(" ");
  for (const w of words) lim = Math.max(lim, displayWidth(w));
  return wrapWords(words, lim).map((line) => line.join(" "));
}

/** A cell after auto-wrap with reflow (all paragraphs joined into one). */
interface Cell {
  lines: string[];
  /** Column width the cell claims: the wrap limit, or more if a word is longer. */
  width: number;
}

function cell(text: string): Cell {
  const raw = text.split("\n");
  const limit = Math.min(Math.max(...raw.map(displayWidth)), MAX_COL_WIDTH);
  const lines = wrapString(raw.join(" "), limit);
  return { lines, width: Math.max(limit, ...lines.map(displayWidth)) };
}

/** tablewriter's `Title`: `_` and word-separating `.` become spaces, trimmed, upper-cased. */
function title(name: string): string {
  const chars = [...name];
  const numOrSpace = (c: string | undefined) => c !== undefined && /[0-9 ]/.test(c);
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === "_") chars[i] = " ";
    else if (chars[i] === "." && ((i !== 0 && !numOrSpace(chars[i - 1])) || (i !== chars.length - 1 && !numOrSpace(chars[i + 1]))))
      chars[i] = " ";
  }
  const trimmed = chars.join("").trim();
  return (trimmed === "" && name.length > 0 ? " " : trimmed).toUpperCase();
}

function padCenter(s: string, width: number): string {
  const gap = width - displayWidth(s);
  if (gap <= 0) return s;
  const left = Math.floor(gap / 2);
  return " ".repeat(left) + s + " ".repeat(gap - left);
}

function padLeft(s: string, width: number): string {
  const gap = width - displayWidth(s);
  return gap > 0 ? " ".repeat(gap) + s : s;
}

/**
 * Renders a table as etcdctl's `-w table` does (`SetHeader`, `Append` per row,
 * `SetAlignment(ALIGN_RIGHT)`, `Render`).
 * @returns the table text including the final newline
 */
export function renderTable(header: string[], rows: string[][]): string {
  const headerCells = header.map(cell);
  const rowCells = rows.map((row) => row.map(cell));
  const widths = header.map((_, i) => Math.max(...[headerCells, ...rowCells].map((r) => r[i]?.width ?? 0)));
  const rule = "+" + widths.map((w) => "-".repeat(w + 2) + "+").join("") + "\n";

  let out = rule;
  const headerHeight = Math.max(...headerCells.map((c) => c.lines.length));
  for (let x = 0; x < headerHeight; x++) {
    out += "|" + widths.map((w, y) => ` ${padCenter(title(headerCells[y]!.lines[x] ?? ""), w)} |`).join("") + "\n";
  }
  out += rule;
  for (const cells of rowCells) {
    const height = Math.max(...cells.map((c) => c.lines.length));
    for (let x = 0; x < height; x++) {
      out += "|" + cells.map((c, y) => ` ${padLeft(c.lines[x] ?? "  ", widths[y]!)} `).join("|") + "|\n";
    }
  }
  return out + rule;
}
