/**
 * The transcript file format: commands and the output they must print, one block after another.
 *
 *     # comment lines (kept when the file is rewritten)
 *     campaign 1
 *     ----
 *     INFO 1 is starting a new election at term 1
 *     ...
 *
 * A block is optional `#` comment lines, one command line, a `----` line, and the output lines up
 * to the next blank line (output never contains a blank line). Blocks are separated by one blank
 * line. The idea is etcd-io/raft's `testdata/*.txt` run by `interaction_test.go` (cockroachdb's
 * datadriven format); this is our own small reading of it.
 */

/** One command of a transcript with what it printed when the file was written. */
export interface TranscriptBlock {
  /** Comment lines before the command, `#` included. */
  comments: string[];
  /** The command line as written, e.g. `deliver-msgs 2 3`. */
  command: string;
  /** The line number (1-based) of the command, for error messages. */
  line: number;
  /** The expected output lines. */
  expected: string[];
}

/**
 * Splits a transcript into blocks. Throws Error(`<name>:<line>: ...`) on a command without its
 * `----` line.
 */
export function parseTranscript(text: string, name: string): TranscriptBlock[] {
  const lines = text.split("\n");
  const blocks: TranscriptBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const comments: string[] = [];
    while (i < lines.length && (lines[i] === "" || lines[i]!.startsWith("#"))) {
      if (lines[i] !== "") comments.push(lines[i]!);
      i++;
    }
    if (i >= lines.length) break;
    const command = lines[i]!;
    const line = i + 1;
    if (lines[i + 1] !== "----") throw new Error(`${name}:${line}: "${command}" is not followed by a ---- line`);
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && lines[i] !== "") expected.push(lines[i++]!);
    blocks.push({ comments, command, line, expected });
  }
  return blocks;
}

/** Writes blocks back with the given outputs (the `expected` of each block when omitted). */
export function formatTranscript(blocks: readonly TranscriptBlock[], outputs?: readonly string[][]): string {
  return blocks
    .map((b, i) => [...b.comments, b.command, "----", ...(outputs?.[i] ?? b.expected)].join("\n"))
    .join("\n\n")
    .concat("\n");
}

/** A command line split into its name, positional words and `key=value` options. */
export interface ParsedCommand {
  name: string;
  words: string[];
  options: Map<string, string>;
}

/** Splits `name word word key=value` at spaces. */
export function parseCommand(command: string): ParsedCommand {
  const [name = "", ...rest] = command.trim().split(/\s+/);
  const words: string[] = [];
  const options = new Map<string, string>();
  for (const w of rest) {
    const eq = w.indexOf("=");
    if (eq > 0) options.set(w.slice(0, eq), w.slice(eq + 1));
    else words.push(w);
  }
  return { name, words, options };
}
