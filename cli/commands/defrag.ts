/**
 * `etcdctl defrag [--cluster]` (etcdctl 3.4 `ctlv3/command/defrag_command.go`): Maintenance.Defragment
 * on each endpoint in turn (each with its own `--command-timeout`), printing `Finished
 * defragmenting etcd member[<ep>]`, or on stderr `Failed to defragment etcd member[<ep>] (<error>)`;
 * exit 1 when any failed. `--data-dir` (etcdctl's offline defragmentation of a bbolt file) is not
 * supported: our backend is SQLite and a running member defragments itself without stopping.
 */
import { ExitCode } from "../errors.ts";
import { CtlError } from "../errors.ts";
import { CLUSTER_FLAG, targetEndpoints } from "./endpoint.ts";
import type { CommandSpec } from "./types.ts";

/** `defrag`. */
export const defragCommand: CommandSpec = {
  path: ["defrag"],
  usage: "",
  description: "Defragments the storage of the etcd members with given endpoints",
  flags: [{ name: "data-dir", type: "string", default: "", description: "Optional. If present, defragments a data directory not in use by etcd." }],
  inheritedFlags: [CLUSTER_FLAG],
  async run(ctx) {
    const dataDir = ctx.flags.string("data-dir");
    if (dataDir) {
      ctx.out.eprintln(`Failed to defragment etcd data[${dataDir}] (offline defragmentation is not supported: defragment the running member)`);
      return ExitCode.Error;
    }
    const { client } = await ctx.connect();
    let failures = 0;
    for (const ep of await targetEndpoints(ctx, client.config)) {
      try {
        await client.call((s, o) => s.maintenance.defragment({}, o), { endpoint: ep });
        ctx.out.println(`Finished defragmenting etcd member[${ep}]`);
      } catch (e) {
        if (!(e instanceof CtlError)) throw e;
        ctx.out.eprintln(`Failed to defragment etcd member[${ep}] (${e.message})`);
        failures++;
      }
    }
    return failures ? ExitCode.Error : undefined;
  },
};
