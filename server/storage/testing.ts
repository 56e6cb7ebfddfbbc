/**
 * Test helpers for the backend's locks (server/storage/sqlite.ts, flock.ts), run in a second Bun
 * process because POSIX and flock locks only keep other processes out.
 */
import { join } from "node:path";

/** Runs `script` (a module, given `arg` as process.argv[1]) in a second bun process; returns what it printed. */
function inChild(script: string, arg: string): string {
  const child = Bun.spawnSync([process.execPath, "-e", script, arg], { stdout: "pipe", stderr: "pipe" });
  return child.stdout.toString().trim() || child.stderr.toString();
}

/** Runs openBackend on `dataDir` in a second process: `opened`, or the error's `name: message`. */
export function openBackendInChild(dataDir: string): string {
  return inChild(
    `import { openBackend } from ${JSON.stringify(join(import.meta.dir, "sqlite.ts"))};
     try { openBackend(process.argv[1]).close(); console.log("opened"); }
     catch (e) { console.log(e.name + ": " + e.message); }`,
    dataDir,
  );
}

/**
 * Starts a write transaction on the SQLite file `path` from a second process with a plain
 * connection (no flock), as `etcdctl backup` and `migrate` do: `opened`, or SQLite's message
 * (`database is locked` while a member holds the file).
 */
export function beginImmediateInChild(path: string): string {
  return inChild(
    `import { Database } from "bun:sqlite";
     try { new Database(process.argv[1]).run("BEGIN IMMEDIATE"); console.log("opened"); }
     catch (e) { console.log(String(e.message)); }`,
    path,
  );
}
