/**
 * Entry point of our `etcdctl`: an etcd v3.4-compatible command-line client (gRPC over HTTP/2).
 * Runtime-neutral: `bun cli/main.ts ...`, `deno run -A cli/main.ts ...`, or compiled with
 * `bun build --compile`. See `run.ts` for the invocation logic and `commands/registry.ts` for the
 * command list; `ETCDCTL_API=2` runs the v2 commands instead (`v2/app.ts`).
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
// etcdctl 3.4's main.go: ETCDCTL_API selects the v3 (unset or "3") or v2 ("2") command set.
const api = process.env.ETCDCTL_API ?? "";
let code: number;
if (api === "" || api === "3") code = await runCli(process.argv.slice(2), process.env, out, new Stdin());
else if (api === "2") code = await (await import("./v2/app.ts")).runV2(process.argv.slice(2), process.env, out, new Stdin());
else {
  out.eprintln(`unsupported API version ${api}`);
  code = 1;
}
await out.flush();
process.exit(code);
