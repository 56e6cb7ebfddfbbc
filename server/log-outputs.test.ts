import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLogOutputs } from "./log-outputs.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function streams() {
  const out = { stdout: "", stderr: "" };
  return { out, std: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

test("default and stderr write to stderr, stdout to stdout, a path appends to the file; several at once", () => {
  const dir = mkdtempSync(join(tmpdir(), "etcd-log-outputs-"));
  dirs.push(dir);
  const file = join(dir, "etcd.log");
  writeFileSync(file, "earlier\n");
  const { out, std } = streams();
  const o = openLogOutputs(["stdout", file, "stderr"], std);
  o.write("line\n");
  o.close();
  expect(out).toEqual({ stdout: "line\n", stderr: "line\n" });
  expect(readFileSync(file, "utf8")).toBe("earlier\nline\n");
  const d = streams();
  openLogOutputs(undefined, d.std).write("x\n");
  openLogOutputs(["default"], d.std).write("y\n");
  expect(d.out).toEqual({ stdout: "", stderr: "x\ny\n" });
});

test("etcd's errors: default with others, a file that cannot be opened", () => {
  const { std } = streams();
  expect(() => openLogOutputs(["default", "stdout"], std)).toThrow('multi logoutput for "default" is not supported yet');
  expect(() => openLogOutputs(["/nonexistent-dir/x.log"], std)).toThrow('open sink "/nonexistent-dir/x.log": open /nonexistent-dir/x.log: no such file or directory');
});
