/**
 * Where the member gets the console's files: the copies embedded in the compiled `etcd` binary
 * (`Bun.embeddedFiles`, named `<file>.gz` by scripts/build-release.ts), or, when the member runs
 * from source (`bun server/main.ts`), a build made once at the first request
 * (server/console/build.ts).
 */
import { gunzipSync } from "node:zlib";
import { CONSOLE_FILES, EMBEDDED_SUFFIX } from "./files.ts";

/** One servable file: gzip-compressed body, its size uncompressed, content type. */
export interface ConsoleAsset {
  gzip: Uint8Array;
  /** The body for clients that do not accept gzip (decompressed on first use). */
  plain(): Uint8Array;
  type: string;
}

function asset(gzip: Uint8Array, type: string, plain?: Uint8Array): ConsoleAsset {
  let body = plain;
  return { gzip, type, plain: () => (body ??= new Uint8Array(gunzipSync(gzip))) };
}

/** The embedded files of a compiled binary, or null when the binary has none (or this is not one). */
async function embedded(): Promise<Map<string, ConsoleAsset> | null> {
  const files = new Map<string, Blob>();
  for (const f of Bun.embeddedFiles) files.set((f as Blob & { name: string }).name, f);
  if (!CONSOLE_FILES.every((f) => files.has(f.name + EMBEDDED_SUFFIX))) return null;
  const out = new Map<string, ConsoleAsset>();
  for (const f of CONSOLE_FILES) out.set(f.name, asset(new Uint8Array(await files.get(f.name + EMBEDDED_SUFFIX)!.arrayBuffer()), f.type));
  return out;
}

/** Builds from the sources (only possible when they are on disk: `bun server/main.ts`). */
async function fromSources(): Promise<Map<string, ConsoleAsset>> {
  const { buildConsole, gzipConsoleFile } = await import("./build.ts");
  const built = await buildConsole();
  const out = new Map<string, ConsoleAsset>();
  for (const f of CONSOLE_FILES) {
    const data = built.get(f.name)!;
    out.set(f.name, asset(gzipConsoleFile(data), f.type, data));
  }
  return out;
}

let loading: Promise<Map<string, ConsoleAsset>> | undefined;

/**
 * The console's files by name (`index.html`, `console.js`, `console.css`), loaded once. Rejects
 * with `console build failed: ...` when there is no embedded copy and the sources do not build.
 * A failed load is retried at the next call.
 */
export function consoleAssets(): Promise<Map<string, ConsoleAsset>> {
  loading ??= (async () => (await embedded()) ?? (await fromSources()))().catch((e) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
