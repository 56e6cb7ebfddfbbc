/**
 * Entry point of our `etcdctl`: an etcd v3.4-compatible command-line client (gRPC over HTTP/2).
 * Runtime-neutral: `bun cli/main.ts ...`, `deno run -A cli/main.ts ...`, or compiled with
 * `bun build --compile`. See `run.ts` for the invocation logic and `commands/registry.ts` for the
 * command list.
 */
import process from "node:process";
import { Output } from "./output.ts";
import { runCli } from "./run.ts";
import { Stdin } from "./stdin.ts";

/** Exit status a shell reports for a process killed by SIGPIPE, as Go's etcdctl is on a closed pipe. */
const EXIT_BROKEN_PIPE = 128 + 13;

for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? EXIT_BROKEN_PIPE : 1));
}

const out = new Output();
const code = await runCli(process.argv.slice(2), process.env, out, new Stdin());
await out.flush();
process.exit(code);
