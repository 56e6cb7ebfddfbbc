/**
 * Passwords read the way etcdctl 3.4 reads them: from the terminal with `speakeasy.Ask` (the
 * default: `--interactive`, and `--user name` without a password), or one word from standard
 * input with Go's `fmt.Scanf("%s", &password)` (`user add|passwd --interactive=false`).
 */
import { spawnSync } from "node:child_process";
import { fromUtf8 } from "./go/utf8.ts";
import type { Output } from "./output.ts";
import type { Stdin } from "./stdin.ts";

/** Unicode white space as Go's `unicode.IsSpace` and fmt's scanner see it. */
const SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const TRIM = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");
const WORD = new RegExp(`^[^${SPACE}]+`);
const LEADING_SPACE = new RegExp(`^[${SPACE}]*`);

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  return s.replace(TRIM, "");
}

/** Where speakeasy runs `stty` to switch terminal echo off and on. */
const STTY = "/bin/stty";

/**
 * Runs `stty <arg>` on our own standard streams, as speakeasy forks it: on a terminal it switches
 * echo; otherwise stty itself prints `stty: 'standard input': Inappropriate ioctl for device` on
 * stderr (as it does for Go's etcdctl), which is harmless.
 * @throws Error `failed turning off console echo for password entry:\n\tfork/exec /bin/stty: ...` when stty cannot start (only for `-echo`)
 */
function stty(arg: string): void {
  const r = spawnSync(STTY, [arg], { stdio: "inherit", argv0: "stty" });
  if (r.error && arg === "-echo") {
    const reason = (r.error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : r.error.message;
    throw new Error(`failed turning off console echo for password entry:\n\tfork/exec ${STTY}: ${reason}`);
  }
}

/**
 * speakeasy's `Ask(prompt)`: prints `prompt` on stdout, turns echo off, reads one line from stdin
 * (to `\n` or end of input, a trailing `\r` dropped), turns echo on, prints a newline, and returns
 * the line with white space trimmed (empty at end of input).
 * @throws Error when echo cannot be switched off (see {@link stty})
 */
export async function askPassword(prompt: string, out: Output, stdin: Stdin): Promise<string> {
  out.print(prompt);
  await out.flush();
  stty("-echo");
  let line: Uint8Array;
  try {
    ({ line } = await stdin.readLineBytes());
  } finally {
    stty("echo");
    out.println("");
    await out.flush();
  }
  let text = fromUtf8(line);
  if (text.endsWith("\r")) text = text.slice(0, -1);
  return goTrimSpace(text);
}

/**
 * Go's `fmt.Scanf("%s", &s)` on stdin: skips spaces on the first line, then returns the word up
 * to the next space; returns "" (Go leaves the variable empty on its error) when the line or the
 * input ends before a word starts.
 */
export async function scanWord(stdin: Stdin): Promise<string> {
  const { line } = await stdin.readLineBytes();
  const rest = fromUtf8(line).replace(LEADING_SPACE, "");
  return WORD.exec(rest)?.[0] ?? "";
}
