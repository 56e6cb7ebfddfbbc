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

const out = new Output();
const code = await runCli(process.argv.slice(2), process.env, out, new Stdin());
await out.flush();
process.exit(code);
