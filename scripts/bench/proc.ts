/**
 * Readers of Linux /proc for the benchmark: CPU time and resident memory of a process and its descendants.
 *
 * Figures come from `/proc/<pid>/stat` (fields 14 utime and 15 stime, in clock ticks, summed over all threads of
 * the process) and `/proc/<pid>/status` (`VmRSS` and the peak `VmHWM`, in kB); the peak is reset by writing "5" to
 * `/proc/<pid>/clear_refs` (Linux ≥ 4.0). See proc(5).
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

/** Clock ticks per second used by utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux/x86-64). */
export const CLOCK_TICKS_PER_SECOND: number = (() => {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** Parsed fields of /proc/<pid>/stat that the benchmark needs; undefined when the process is gone. */
function readStat(pid: number): { ppid: number; cpuTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return { ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
}

/** PIDs of `pid` and all its live descendants (found by scanning the ppid of every process in /proc). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const stat = readStat(child);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(child);
    else children.set(stat.ppid, [child]);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** User + system CPU time consumed so far by `pid` and its live descendants, in microseconds (tick resolution). */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += readStat(p)?.cpuTicks ?? 0;
  return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** Sum of a `/proc/<pid>/status` field (in kB) over `pid` and its live descendants, in bytes; 0 when unreadable. */
function treeStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const pattern = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m");
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = pattern.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch {
      // process exited between the scan and the read
    }
  }
  return kb * 1024;
}

/** Resident set size (VmRSS) of `pid` and its live descendants, in bytes; 0 when unreadable. */
export function treeRssBytes(pid: number): number {
  return treeStatusBytes(pid, "VmRSS");
}

/**
 * Peak resident set size (VmHWM) since start or since the last {@link resetPeakRss}, summed over `pid` and its live
 * descendants (the sum of each process's peak: exact for a single-process server), in bytes; 0 when unreadable.
 */
export function treePeakRssBytes(pid: number): number {
  return treeStatusBytes(pid, "VmHWM");
}

/**
 * Resets the peak RSS (VmHWM) of `pid` and its live descendants to their current RSS (`echo 5 > clear_refs`).
 * Returns false if the kernel refused (then VmHWM keeps the peak since start).
 */
export function resetPeakRss(pid: number): boolean {
  let ok = true;
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, "5");
    } catch {
      ok = false;
    }
  }
  return ok;
}
