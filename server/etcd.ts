/**
 * Entry of the compiled `etcd` binary (scripts/build-release.ts): sets the allocator's options by
 * re-executing itself when they are missing (server/runtime/allocator-options.ts), before the
 * member's modules are loaded, then runs server/main.ts. `bun server/main.ts` runs the same member
 * from source without the re-exec.
 */
import { reexecWithAllocatorOptions } from "./runtime/allocator-options.ts";

reexecWithAllocatorOptions(process);
const { runMain } = await import("./main.ts");
await runMain();
