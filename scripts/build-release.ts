/**
 * Builds the release: `npm run build` (= `bun scripts/build-release.ts`).
 *
 * 1. The web console (server/console/build.ts) -> `dist/console/<file>.gz`, then
 *    `bun build --compile --target=bun-linux-x64` of `server/etcd.ts` -> `dist/etcd` with those
 *    files embedded (read back through `Bun.embeddedFiles`, server/console/assets.ts) and of
 *    `cli/main.ts` -> `dist/etcdctl` (single self-contained executables).
 * 2. `dist/etcd-v<version>-linux-amd64.tar.gz` holding `etcd-v<version>-linux-amd64/{etcd,etcdctl,README.md}`,
 *    laid out like etcd's own release tarballs, plus the systemd unit `etcd.service` and its
 *    environment file example `etcd.conf` (from `packaging/`); `<version>` comes from package.json.
 *
 * Exits non-zero, naming what failed, if either compile or the tar step fails. Uses the system
 * `tar` (GNU tar) rather than a hand-written archive writer.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildConsole, gzipConsoleFile } from "../server/console/build.ts";
import { CONSOLE_FILES, EMBEDDED_SUFFIX } from "../server/console/files.ts";

/** One binary to compile: entry file (relative to the repo root) and output name in dist/. */
export interface CompileTarget {
  entry: string;
  output: string;
  /** Files (relative to the repo root) embedded as they are, kept under their own names. */
  embed?: string[];
  /**
   * Code splitting (`--splitting --format=esm`): modules the entry imports dynamically go in
   * chunks of their own, not parsed before they are imported. The `etcd` entry re-executes itself
   * before importing the member (server/etcd.ts): 50-60 ms to that execve instead of 200-300 ms.
   */
  splitting?: boolean;
}

/** The release's binaries: the `etcd` server and the `etcdctl` CLI. */
export const TARGETS: CompileTarget[] = [
  { entry: "server/etcd.ts", output: "etcd", splitting: true, embed: CONSOLE_FILES.map((f) => `dist/console/${f.name}${EMBEDDED_SUFFIX}`) },
  { entry: "cli/main.ts", output: "etcdctl" },
];

/** Files of `packaging/` shipped beside the binaries: the systemd unit and its environment file example. */
export const PACKAGING_FILES = ["etcd.service", "etcd.conf"];

const root = resolve(import.meta.dir, "..");
const dist = join(root, "dist");

/** Runs a command in the repo root with inherited output; returns an error text or null on success. */
function runStep(cmd: string[]): string | null {
  console.log(`$ ${cmd.join(" ")}`);
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, stdio: "inherit" });
  if (r.error) return `${cmd[0]}: ${r.error.message}`;
  if (r.status !== 0) return `${cmd.join(" ")} exited with ${r.status ?? r.signal}`;
  return null;
}

/**
 * Compiles one target with `bun build --compile` into `dist/<output>`. Returns an error text, or
 * null when the executable was written (checked: it exists and is non-empty).
 */
export function compile(target: CompileTarget): string | null {
  const out = join(dist, target.output);
  rmSync(out, { force: true });
  if (!existsSync(join(root, target.entry))) return `${target.entry} does not exist`;
  const err = runStep([
    process.execPath, // the bun running this script
    "build",
    "--compile",
    "--target=bun-linux-x64",
    ...(target.splitting ? ["--splitting", "--format=esm"] : []),
    target.entry,
    ...(target.embed ?? []),
    ...(target.embed ? ["--asset-naming=[name].[ext]"] : []),
    "--outfile",
    out,
  ]);
  if (err) return err;
  if (!existsSync(out) || statSync(out).size === 0) return `bun build reported success but ${out} is missing or empty`;
  return null;
}

/**
 * Builds the web console and writes its gzipped files to `dist/console/` for embedding. Returns
 * the total compressed size in bytes; throws `console build failed: ...`.
 */
export async function buildConsoleFiles(): Promise<number> {
  const dir = join(dist, "console");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let total = 0;
  for (const [name, data] of await buildConsole()) {
    const gz = gzipConsoleFile(data);
    total += gz.byteLength;
    writeFileSync(join(dir, name + EMBEDDED_SUFFIX), gz);
  }
  return total;
}

/**
 * Writes `dist/etcd-v<version>-linux-amd64.tar.gz` from the compiled binaries and README.md.
 * Returns the tarball path; throws if tar fails.
 */
export function packTarball(version: string): string {
  const dirName = `etcd-v${version}-linux-amd64`;
  const staging = join(dist, dirName);
  const tarball = join(dist, `${dirName}.tar.gz`);
  rmSync(staging, { recursive: true, force: true });
  rmSync(tarball, { force: true });
  mkdirSync(staging, { recursive: true });
  for (const t of TARGETS) {
    copyFileSync(join(dist, t.output), join(staging, t.output));
    chmodSync(join(staging, t.output), 0o755);
  }
  copyFileSync(join(root, "README.md"), join(staging, "README.md"));
  for (const f of PACKAGING_FILES) copyFileSync(join(root, "packaging", f), join(staging, f));
  const err = runStep(["tar", "--owner=0", "--group=0", "--numeric-owner", "-czf", tarball, "-C", dist, dirName]);
  rmSync(staging, { recursive: true, force: true });
  if (err) throw new Error(err);
  return tarball;
}

/** Entry point: compiles every target, then packs; exits 1 listing every failure. */
async function main(): Promise<void> {
  const version: string = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  mkdirSync(dist, { recursive: true });
  const failures: string[] = [];
  try {
    console.log(`build-release: web console ${await buildConsoleFiles()} bytes gzipped`);
  } catch (e) {
    console.error(`build-release: FAILED ${(e as Error).message}`);
    process.exit(1);
  }
  for (const t of TARGETS) {
    const err = compile(t);
    if (err) failures.push(`compile ${t.entry} -> dist/${t.output}: ${err}`);
  }
  if (!existsSync(join(root, "README.md"))) failures.push("README.md is missing (it goes into the tarball)");
  for (const f of PACKAGING_FILES) if (!existsSync(join(root, "packaging", f))) failures.push(`packaging/${f} is missing (it goes into the tarball)`);
  if (failures.length > 0) {
    console.error(`build-release: FAILED\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
  try {
    const tarball = packTarball(version);
    console.log(`build-release: wrote ${tarball} (${statSync(tarball).size} bytes)`);
  } catch (e) {
    console.error(`build-release: FAILED packing tarball: ${(e as Error).message}`);
    process.exit(1);
  }
}

if (import.meta.main) await main();
