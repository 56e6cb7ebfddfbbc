/**
 * etcdctl v2's `cluster-health [--forever]` (`ctlv2/command/cluster_health.go`): lists the
 * members (without syncing), asks each member's client URLs for `/health` until one answers, and
 * prints `cluster is healthy` (exit 0), `degraded` or `unavailable` (exit 5).
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import https from "node:https";
import process from "node:process";
import { listMembers } from "../members.ts";
import { clientNoSync } from "../connect.ts";
import { handleError, V2Exit, type V2Context } from "../context.ts";
import type { V2Command } from "./types.ts";

const RECHECK_MS = 10_000;

/** Go's `http.Client.Get(url)`: the body, or Go's `Get "<url>": <reason>` error text. */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith("https:") ? https : http;
    const req = mod.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.once("error", reject);
    });
    req.once("error", (e: NodeJS.ErrnoException) => {
      const a = e as { address?: string; port?: number };
      const reason = e.code === "ECONNREFUSED" ? `dial tcp ${a.address}:${a.port}: connect: connection refused` : e.message;
      reject(new Error(`Get "${url}": ${reason}`));
    });
  });
}

/** Go unmarshals `{"health": "true"}` or `{"health": true}` (field names case-insensitive). */
function healthy(body: string): boolean {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  const entry = Object.entries(parsed).find(([k]) => k.toLowerCase() === "health");
  return entry?.[1] === "true" || entry?.[1] === true;
}

export const CLUSTER_HEALTH_COMMAND: V2Command = {
  name: "cluster-health",
  usage: "check the health of the etcd cluster",
  argsUsage: " ",
  flags: [{ names: ["forever", "f"], type: "bool", usage: "forever check the health every 10 second until CTRL+C" }],
  async action(ctx: V2Context) {
    const forever = ctx.flags.bool("forever");
    if (forever) process.once("SIGINT", () => void ctx.out.flush().then(() => process.exit(0)));
    const c = await clientNoSync(ctx);
    let members;
    try {
      members = await listMembers(c, Infinity);
    } catch (e) {
      ctx.out.println("cluster may be unhealthy: failed to list members");
      handleError(ctx, V2Exit.ServerError, e);
    }
    for (;;) {
      let healthyMembers = 0;
      for (const m of members) {
        if (m.clientURLs.length === 0) {
          ctx.out.println(`member ${m.id} is unreachable: no available published client urls`);
          continue;
        }
        let checked = false;
        for (const url of m.clientURLs) {
          let ok: boolean;
          try {
            ok = healthy(await get(url + "/health"));
          } catch (e) {
            ctx.out.println(`failed to check the health of member ${m.id} on ${url}: ${(e as Error).message}`);
            continue;
          }
          checked = true;
          if (ok) {
            ctx.out.println(`member ${m.id} is healthy: got healthy result from ${url}`);
            healthyMembers++;
          } else ctx.out.println(`member ${m.id} is unhealthy: got unhealthy result from ${url}`);
          break;
        }
        if (!checked) ctx.out.println(`member ${m.id} is unreachable: [${m.clientURLs.join(" ")}] are all unreachable`);
      }
      ctx.out.println(healthyMembers === members.length ? "cluster is healthy" : healthyMembers === 0 ? "cluster is unavailable" : "cluster is degraded");
      if (!forever) return healthyMembers === members.length ? V2Exit.Success : V2Exit.ClusterNotHealthy;
      ctx.out.print("\nnext check after 10 second...\n\n");
      await ctx.out.flush();
      await new Promise((r) => setTimeout(r, RECHECK_MS));
    }
  },
};
