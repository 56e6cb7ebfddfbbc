/**
 * `etcdctl endpoint health|status` (etcdctl 3.4 `ep_command.go`). Both act on every endpoint of
 * `--endpoints`, or with `--cluster` on every client URL of the member list.
 */
import process from "node:process";
import { EtcdClient, type ClientConfig } from "../client.ts";
import { CtlError, ExitCode } from "../errors.ts";
import type { FlagSpec } from "../flags.ts";
import { goDurationString } from "../go/duration.ts";
import { utf8 } from "../go/utf8.ts";
import type { EpHashKV, EpHealth, EpStatus } from "../print/printer.ts";
import type { CommandContext, CommandSpec } from "./types.ts";

/** `--cluster`, a persistent flag of the `endpoint` group (so `ETCDCTL_CLUSTER` applies too). */
export const CLUSTER_FLAG: FlagSpec = {
  name: "cluster",
  type: "bool",
  default: false,
  description: "use all endpoints from the cluster member list",
};

/**
 * The endpoints to act on: `--endpoints` as given, or with `--cluster` all members' client URLs.
 * @throws CtlError exit 1 `failed to fetch endpoints from etcd cluster member list: ...`
 */
export async function targetEndpoints(ctx: CommandContext, config: ClientConfig): Promise<string[]> {
  if (!ctx.flags.bool("cluster")) return ctx.flags.strings("endpoints");
  try {
    // Without credentials, as etcdctl ("MemberList() doesn't need authentication").
    const resp = await new EtcdClient({ ...config, credentials: undefined }).call((s, o) => s.cluster.memberList({}, o), { repeatable: true });
    return resp.members.flatMap((m) => m.clientURLs);
  } catch (e) {
    const reason = e instanceof CtlError ? e.message : String(e);
    throw new CtlError(ExitCode.Error, `failed to fetch endpoints from etcd cluster member list: ${reason}`);
  }
}

/** Errors that still prove the request went through consensus (etcd's health rule). */
const HEALTHY_ERRORS = new Set(["etcdserver: permission denied"]);

/**
 * `endpoint health`: a linearizable Get of key `health` on each endpoint concurrently, listed in
 * completion order. Exits 1 with `unhealthy cluster` when any endpoint fails.
 */
export const endpointHealthCommand: CommandSpec = {
  path: ["endpoint", "health"],
  usage: "",
  description: "Checks the healthiness of endpoints specified in `--endpoints` flag",
  groupDescription: "Endpoint related commands",
  flags: [],
  inheritedFlags: [CLUSTER_FLAG],
  async run(ctx) {
    const { printer } = ctx.display();
    const config = await ctx.clientConfig();
    const results: EpHealth[] = [];
    await Promise.all(
      (await targetEndpoints(ctx, config)).map(async (ep) => {
        const client = new EtcdClient({ ...config, endpoints: [ep] });
        try {
          await client.authenticate();
        } catch (e) {
          results.push({ ep, health: false, took: "", error: e instanceof CtlError ? e.message : String(e) });
          return;
        }
        const start = process.hrtime.bigint();
        let error = "";
        try {
          await client.call((s, o) => s.kv.range({ key: utf8("health") }, o), { repeatable: true });
        } catch (e) {
          error = e instanceof CtlError ? e.message : String(e);
        }
        const took = goDurationString(process.hrtime.bigint() - start);
        const health = error === "" || HEALTHY_ERRORS.has(error);
        results.push({ ep, health, took, error: health ? "" : error });
      }),
    );
    printer.endpointHealth(results);
    if (results.some((h) => h.error !== "")) throw new CtlError(ExitCode.Error, "unhealthy cluster");
  },
};

/**
 * `endpoint hashkv [--rev N]`: `Maintenance.HashKV` of each endpoint in turn (each call with its
 * own `--command-timeout`); failures are reported on stderr as `Failed to get the hash of endpoint
 * <ep> (<error>)`, the others printed, then the last error ends the command (`Error: ...`, exit 1).
 */
export const endpointHashKVCommand: CommandSpec = {
  path: ["endpoint", "hashkv"],
  usage: "",
  description: "Prints the KV history hash for each endpoint in --endpoints",
  flags: [],
  inheritedFlags: [CLUSTER_FLAG, { name: "rev", type: "int64", default: "0", description: "maximum revision to hash (default: all revisions)" }],
  async run(ctx) {
    const { client, printer } = await ctx.connect();
    const revision = ctx.flags.int64("rev");
    const list: EpHashKV[] = [];
    let last: CtlError | undefined;
    for (const ep of await targetEndpoints(ctx, client.config)) {
      try {
        const resp = await client.call((s, o) => s.maintenance.hashKV({ revision }, o), { endpoint: ep, repeatable: true });
        list.push({ ep, resp });
      } catch (e) {
        if (!(e instanceof CtlError)) throw e;
        last = e;
        ctx.out.eprintln(`Failed to get the hash of endpoint ${ep} (${e.message})`);
      }
    }
    printer.endpointHashKV(list);
    if (last) throw last;
  },
};

/**
 * `endpoint status`: `Maintenance.Status` of each endpoint in turn; failures are reported on
 * stderr as `Failed to get the status of endpoint <ep> (<error>)` and make the exit code 1.
 */
export const endpointStatusCommand: CommandSpec = {
  path: ["endpoint", "status"],
  usage: "",
  description: "Prints out the status of endpoints specified in `--endpoints` flag",
  flags: [],
  inheritedFlags: [CLUSTER_FLAG],
  async run(ctx) {
    const { client, printer } = await ctx.connect();
    const list: EpStatus[] = [];
    let failed = false;
    for (const ep of await targetEndpoints(ctx, client.config)) {
      try {
        const resp = await client.call((s, o) => s.maintenance.status({}, o), { endpoint: ep, repeatable: true });
        list.push({ ep, resp });
      } catch (e) {
        if (!(e instanceof CtlError)) throw e;
        failed = true;
        ctx.out.eprintln(`Failed to get the status of endpoint ${ep} (${e.message})`);
      }
    }
    printer.endpointStatus(list);
    return failed ? ExitCode.Error : undefined;
  },
};
