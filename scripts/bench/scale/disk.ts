/** Disk usage of a directory tree, as `du` counts it (allocated blocks, so preallocated WAL files count in full). */
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Bytes allocated to `dir` and everything under it (st_blocks × 512); 0 if it does not exist. */
export function diskUsageBytes(dir: string): number {
  let bytes = 0;
  const walk = (path: string) => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    bytes += st.blocks * 512;
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return bytes;
}
