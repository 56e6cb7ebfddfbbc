import { expect, test } from "bun:test";
import { ALLOCATOR_ENV, type ProcessImage, reexecWithAllocatorOptions } from "./allocator-options.ts";

/** A process image whose execve records its call instead of replacing anything. */
function image(argv: string[], env: Record<string, string | undefined>, execve: ProcessImage["execve"] | "record" = "record") {
  const calls: [string, string[], Record<string, string | undefined>][] = [];
  const proc: ProcessImage = {
    argv,
    argv0: "./etcd",
    execPath: "/opt/etcd/etcd",
    env,
    execve: execve === "record" ? (file, args, e) => void calls.push([file, args, e]) : execve,
  };
  return { proc, calls };
}

test("the compiled binary without the variables re-executes itself with them, same arguments and environment", () => {
  const { proc, calls } = image(["bun", "/$bunfs/root/etcd", "--name", "a b", "--data-dir", "x"], { HOME: "/root" });
  reexecWithAllocatorOptions(proc);
  expect(calls).toEqual([["/opt/etcd/etcd", ["./etcd", "--name", "a b", "--data-dir", "x"], { HOME: "/root", ...ALLOCATOR_ENV }]]);
});

test("nothing is re-executed when the variables are set (also by the user, to another value), from source, or without execve", () => {
  const set = image(["bun", "/$bunfs/root/etcd"], { MIMALLOC_PURGE_DELAY: "10" });
  reexecWithAllocatorOptions(set.proc);
  expect(set.calls).toEqual([]);
  const source = image(["/usr/bin/bun", "/work/server/main.ts"], {});
  reexecWithAllocatorOptions(source.proc);
  expect(source.calls).toEqual([]);
  const { calls, proc } = image(["bun", "/$bunfs/root/etcd"], {}, undefined);
  delete proc.execve;
  reexecWithAllocatorOptions(proc);
  expect(calls).toEqual([]);
});

test("an execve that fails leaves the process running with the defaults", () => {
  const { proc } = image(["bun", "/$bunfs/root/etcd"], {}, () => {
    throw new Error("ENOSYS");
  });
  expect(() => reexecWithAllocatorOptions(proc)).not.toThrow();
});
