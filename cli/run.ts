/**
 * One etcdctl invocation, independent of the process: parse, run the command, print errors the
 * way etcdctl does (`Error: <message>` on stderr) and return the exit code.
 */
import { commandFlags, parseCommandLine } from "./argv.ts";
import { EtcdClient } from "./client.ts";
import { COMMANDS } from "./commands/registry.ts";
import type { CommandContext } from "./commands/types.ts";
import { CtlError, ExitCode } from "./errors.ts";
import { applyEnv, globalConfig, GLOBAL_FLAGS, type GlobalConfig } from "./global.ts";
import type { Output } from "./output.ts";
import { newPrinter } from "./print/index.ts";
import type { Printer } from "./print/printer.ts";
import type { Stdin } from "./stdin.ts";

/**
 * Runs etcdctl with `argv` (arguments only, no runtime/script path).
 * @param env environment for `ETCDCTL_*` variables
 * @returns the process exit code (0, or one of {@link ExitCode})
 */
export async function runCli(argv: string[], env: Record<string, string | undefined>, out: Output, stdin: Stdin): Promise<number> {
  try {
    const parsed = parseCommandLine(argv, COMMANDS, GLOBAL_FLAGS, "etcdctl");
    if (parsed.kind === "help") {
      out.print(parsed.text);
      return ExitCode.Success;
    }
    const { spec, args, flags } = parsed;
    let display: { printer: Printer; global: GlobalConfig } | undefined;
    const ctx: CommandContext = {
      args,
      flags,
      out,
      stdin,
      display() {
        if (!display) {
          const inherited = commandFlags({ ...spec, flags: [] }, GLOBAL_FLAGS);
          applyEnv(flags, inherited, env, out);
          const global = globalConfig(flags);
          display = { printer: newPrinter(global.writeOut, global.hex, out), global };
        }
        return display;
      },
      connect() {
        const { printer, global } = ctx.display();
        return { client: new EtcdClient(global), printer, global };
      },
    };
    return (await spec.run(ctx)) ?? ExitCode.Success;
  } catch (e) {
    if (e instanceof CtlError) {
      out.eprintln(e.verbatim ? e.message : `Error: ${e.message}`);
      return e.exitCode;
    }
    out.eprintln(`Error: ${e instanceof Error ? e.message : String(e)}`);
    return ExitCode.Error;
  }
}
