/**
 * Builds the web console from its sources (server/console/ui/) with `Bun.build`: the browser
 * bundle `console.js` (minified, every import bundled: no external requests), `console.css` and
 * `index.html` copied as they are. Used by the release build (scripts/build-release.ts, which
 * embeds the gzipped files in the binary) and by an unbuilt member (`bun server/main.ts`) at
 * the first request for `/ui`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const UI_DIR = join(import.meta.dir, "ui");

/**
 * Builds the console. Returns file name → content (uncompressed bytes) for every name of
 * CONSOLE_FILES (server/console/files.ts). Throws `console build failed: <messages>` when
 * Bun.build reports errors.
 */
export async function buildConsole(): Promise<Map<string, Uint8Array>> {
  const result = await Bun.build({
    entrypoints: [join(UI_DIR, "main.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
  });
  if (!result.success || result.outputs.length !== 1) {
    throw new Error(`console build failed: ${result.logs.map((l) => String(l.message ?? l)).join("; ") || `${result.outputs.length} outputs`}`);
  }
  const js = new Uint8Array(await result.outputs[0]!.arrayBuffer());
  return new Map([
    ["index.html", readFileSync(join(UI_DIR, "index.html"))],
    ["console.js", js],
    ["console.css", readFileSync(join(UI_DIR, "style.css"))],
  ]);
}

/** gzip at level 9, as the files are embedded and served. */
export function gzipConsoleFile(data: Uint8Array): Uint8Array {
  return gzipSync(data, { level: 9 });
}
