/**
 * One etcdctl invocation, independent of the process: parse, run the command, print errors the
 * way etcdctl does (`Error: <message>` on stderr) and return the exit code.
 */
import { commandFlags, parseCommandLine } from "./argv.ts";
import { EtcdClient, type ClientConfig } from "./client.ts";
import { COMMANDS } from "./commands/registry.ts";
import type { CommandContext } from "./commands/types.ts";
import { credentialsFromFlags } from "./credentials.ts";
import { CtlError, ExitCode } from "./errors.ts";
import { applyEnv, globalConfig, GLOBAL_FLAGS, type GlobalConfig } from "./global.ts";
import type { Output } from "./output.ts";
import { newPrinter } from "./print/index.ts";
import type { Printer } from "./print/printer.ts";
import type { Stdin } from "./stdin.ts";
import { checkTlsFlagsNotEmpty, clientTlsFromFlags } from "./tls.ts";

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
    let global: GlobalConfig | undefined;
    let printer: Printer | undefined;
    /** Global settings after the `ETCDCTL_*` variables (applied once). */
    const settings = (): GlobalConfig => {
      if (!global) {
        // etcdctl's clientConfigFromCmd silences its own watch variables for `watch`.
        const flagEnv = { ...env };
        if (spec.path[0] === "watch") for (const k of ["ETCDCTL_WATCH_KEY", "ETCDCTL_WATCH_RANGE_END"]) delete flagEnv[k];
        applyEnv(flags, commandFlags({ ...spec, flags: [] }, GLOBAL_FLAGS), flagEnv, out);
        global = globalConfig(flags);
      }
      return global;
    };
    /** etcdctl's secureCfgFromCmd and authCfgFromCmd: empty TLS flags, the password prompt. */
    const security = async () => {
      const g = settings();
      checkTlsFlagsNotEmpty(flags);
      return { global: g, credentials: await credentialsFromFlags(g, out, stdin) };
    };
    const ctx: CommandContext = {
      args,
      rawArgs: argv,
      flags,
      out,
      stdin,
      display() {
        const g = settings();
        printer ??= newPrinter(g.writeOut, g.hex, out);
        return { printer, global: g };
      },
      async clientConfig(): Promise<ClientConfig> {
        const { global: g, credentials } = await security();
        return { ...g, credentials, tls: clientTlsFromFlags(g.tlsFlags) };
      },
      async connect() {
        // etcdctl's order: TLS flag checks and password prompt, then -w, then TLS files, then dial.
        const { global: g, credentials } = await security();
        const { printer: p } = ctx.display();
        const client = new EtcdClient({ ...g, credentials, tls: clientTlsFromFlags(g.tlsFlags) });
        await client.authenticate();
        return { client, printer: p, global: g };
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
