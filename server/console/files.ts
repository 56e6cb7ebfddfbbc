/**
 * The web console's files as the member serves them under `/ui/` (server/console/http.ts) and
 * as the release build embeds them in the `etcd` binary (scripts/build-release.ts): one HTML
 * page, one script bundle, one style sheet. Runtime-neutral: no Bun APIs here.
 */

/** One file of the console: its name under `/ui/`, its content type. */
export interface ConsoleFileSpec {
  name: string;
  type: string;
}

/** The console's files, in the order the page needs them. */
export const CONSOLE_FILES: readonly ConsoleFileSpec[] = [
  { name: "index.html", type: "text/html; charset=utf-8" },
  { name: "console.js", type: "text/javascript; charset=utf-8" },
  { name: "console.css", type: "text/css; charset=utf-8" },
];

/**
 * Suffix of the embedded copies: the release embeds `<name>.gz` (gzip level 9) so that bun's
 * `--compile` keeps them as plain files (a `.js` or `.html` entry would be bundled as code) and
 * the member can send them compressed as they are.
 */
export const EMBEDDED_SUFFIX = ".gz";
