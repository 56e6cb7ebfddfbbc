/**
 * The files `npm run build` ships beside the binaries (packaging/): every variable of the
 * `etcd.conf` example, also the commented-out ones, is a flag the server accepts, and
 * `etcd.service` passes `systemd-analyze verify` (when systemd is installed).
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseConfig } from "../server/config.ts";

const root = resolve(import.meta.dir, "..");

/** KEY=VALUE lines of an environment file; `commented`: also `#ETCD_...` lines. */
function envFile(text: string, commented: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = commented ? raw.replace(/^#(ETCD_)/, "$1") : raw;
    const m = /^(ETCD_[A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

test("packaging/etcd.conf: every ETCD_* variable is a flag the server accepts", () => {
  const text = readFileSync(join(root, "packaging", "etcd.conf"), "utf8");
  const active = parseConfig([], envFile(text, false));
  expect(active.kind).toBe("run");
  expect(active.kind === "run" && active.warnings).toEqual([]);
  expect(active.kind === "run" && [active.config.name, active.config.dataDir, active.config.autoCompactionRetention]).toEqual(["default", "/var/lib/etcd/default.etcd", "1"]);
  const all = envFile(text, true);
  delete all.ETCD_CONFIG_FILE; // replaces every other setting; checked by server/config-file.test.ts
  const everything = parseConfig([], all);
  expect(everything.kind).toBe("run");
  expect(everything.kind === "run" && everything.warnings).toEqual([]);
});

test.skipIf(spawnSync("systemd-analyze", ["--version"]).status !== 0)("packaging/etcd.service passes systemd-analyze verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "etcd-unit-"));
  try {
    // verify checks that ExecStart exists: point it at a binary that does.
    const unit = readFileSync(join(root, "packaging", "etcd.service"), "utf8");
    expect(unit).toContain("Type=notify");
    expect(unit).toContain("ExecStart=/usr/local/bin/etcd");
    writeFileSync(join(dir, "etcd.service"), unit.replace("/usr/local/bin/etcd", "/bin/true"));
    const r = spawnSync("systemd-analyze", ["verify", join(dir, "etcd.service")], { encoding: "utf8" });
    expect(r.stderr.trim()).toBe("");
    expect(r.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
