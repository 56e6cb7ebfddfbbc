/**
 * `etcdctl check datascale [--load s|m|l|xl] [--prefix p] [--auto-compact] [--auto-defrag]`, as
 * etcdctl 3.4's check.go: reads `process_resident_memory_bytes` from the first endpoint's
 * `/metrics`, puts `limit` pairs (512-byte random varint keys, 512-byte values) under the prefix
 * as fast as `clients` connections allow, with pb.v1's bar counting the puts, reads the metric
 * again, deletes the prefix (then `--auto-compact` / `--auto-defrag` as `check perf`) and prints
 * `PASS: Approximate system memory used : <MB, 2 decimals> MB.`, or `FAIL: too many errors` with
 * the errors (exit 1). A missing or unreadable metric prints etcdctl's `FAIL: Could not read
 * process_resident_memory_bytes before|after the put operations.` (exit 1), after the reason
 * (`could not find: process_resident_memory_bytes`, `fetch error: ...`).
 */
import * as http from "node:http";
import * as https from "node:https";
import { readFileSync } from "node:fs";
import type { GlobalConfig } from "../global.ts";
import { ExitCode } from "../errors.ts";
import { GoProgressBar } from "../go/pb.ts";
import { barIo } from "./check.ts";
import { checkFlags, cleanUp, loadModel, openClients, putRandomVarint, requireEmptyPrefix, runPuts } from "./check-load.ts";
import type { CommandContext, CommandSpec } from "./types.ts";

/** One workload of etcdctl's checkDatascaleCfgMap: pairs to put, bytes per pair, connections. */
interface DatascaleLoad {
  limit: number;
  kvSize: number;
  clients: number;
}

/** etcdctl 3.4's checkDatascaleCfgMap. */
const DATASCALE_LOADS: Record<string, DatascaleLoad> = {
  s: { limit: 10000, kvSize: 1024, clients: 50 },
  m: { limit: 100000, kvSize: 1024, clients: 200 },
  l: { limit: 1000000, kvSize: 1024, clients: 500 },
  xl: { limit: 3000000, kvSize: 1024, clients: 1000 },
};

const KEY_BYTES = 512;
const VALUE_BYTES = 512;
const RESIDENT_MEMORY_KEY = "process_resident_memory_bytes";
const MIB = 1024 * 1024;

/** GET `url` as Go's http.Get (client certificate from --cert/--key on https, as etcdctl). */
function get(url: string, global: GlobalConfig): Promise<string> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith("https://");
    const options: https.RequestOptions = {};
    if (secure) {
      options.cert = readFileSync(global.tlsFlags.cert);
      options.key = readFileSync(global.tlsFlags.key);
      options.rejectUnauthorized = !global.tlsFlags.insecureSkipVerify;
    }
    const req = (secure ? https : http).get(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/**
 * etcdctl's endpointMemoryMetrics: the metric's value in bytes, or 0 after printing why not.
 */
async function residentMemoryBytes(ctx: CommandContext, endpoint: string, global: GlobalConfig): Promise<number> {
  const host = endpoint.startsWith("http://") || endpoint.startsWith("https://") ? endpoint : `http://${endpoint}`;
  const url = `${host}/metrics`;
  let text: string;
  try {
    text = await get(url, global);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === "ECONNREFUSED" ? `dial tcp ${host.replace(/^https?:\/\//, "")}: connect: connection refused` : err.message;
    ctx.out.println(`fetch error: Get ${JSON.stringify(url)}: ${reason}`);
    return 0;
  }
  const line = text.split("\n").find((l) => l.startsWith(RESIDENT_MEMORY_KEY));
  const value = line?.slice(RESIDENT_MEMORY_KEY.length).trim() ?? "";
  if (value === "") {
    ctx.out.println(`could not find: ${RESIDENT_MEMORY_KEY}`);
    return 0;
  }
  const bytes = Number(value);
  if (Number.isNaN(bytes)) {
    ctx.out.println(`parse error: strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`);
    return 0;
  }
  return bytes;
}

/** `check datascale`. */
export const checkDatascaleCommand: CommandSpec = {
  path: ["check", "datascale"],
  usage: "[options]",
  description: "Check the memory usage of holding data for different workloads on a given server endpoint.",
  groupDescription: "commands for checking properties of the etcd cluster",
  flags: checkFlags("datascale", "/etcdctl-check-datascale/"),
  async run(ctx) {
    const load = DATASCALE_LOADS[loadModel(ctx)]!;
    const prefixText = ctx.flags.string("prefix");
    const prefix = new TextEncoder().encode(prefixText);

    const config = await ctx.clientConfig();
    const { global } = ctx.display();
    const clients = await openClients(config, load.clients);
    const first = clients[0]!;
    await requireEmptyPrefix(first, prefixText, null);

    const endpoint = config.endpoints[0]!;
    const before = await residentMemoryBytes(ctx, endpoint, global);
    if (before === 0) {
      ctx.out.println("FAIL: Could not read process_resident_memory_bytes before the put operations.");
      return ExitCode.Error;
    }
    ctx.out.println(`Start data scale check for work load [${load.limit} key-value pairs, ${load.kvSize} bytes per key-value, ${load.clients} concurrent clients].`);
    const bar = new GoProgressBar(load.limit, barIo(ctx));
    bar.start();
    const stats = await runPuts(
      clients,
      new Uint8Array(VALUE_BYTES),
      async (push) => {
        const k = new Uint8Array(KEY_BYTES);
        for (let i = 0; i < load.limit; i++) {
          putRandomVarint(k);
          const key = new Uint8Array(prefix.length + KEY_BYTES);
          key.set(prefix);
          key.set(k, prefix.length);
          await push(key);
        }
      },
      () => bar.add(1),
    );
    bar.finish();

    const after = await residentMemoryBytes(ctx, endpoint, global);
    if (after === 0) {
      ctx.out.println("FAIL: Could not read process_resident_memory_bytes after the put operations.");
      return ExitCode.Error;
    }
    await cleanUp(ctx, first, prefix, config.endpoints);
    if (stats.errors.size !== 0) {
      ctx.out.println("FAIL: too many errors");
      for (const [text, count] of stats.errors) ctx.out.println(`FAIL: ERROR(${text}) -> ${count}`);
      return ExitCode.Error;
    }
    ctx.out.println(`PASS: Approximate system memory used : ${((after - before) / MIB).toFixed(2)} MB.`);
  },
};
