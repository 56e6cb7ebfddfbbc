/**
 * `etcdctl elect <election-name> [proposal]` and `elect -l <election-name>` as etcdctl 3.4's
 * elect_command.go: clientv3/concurrency's Election on the KV API with a 60 s session lease kept
 * alive (candidate key `<election-name>/<lease hex>`, server/concurrency/election.ts).
 * - Campaign: once elected, prints the leader key and proposal as `get` would and holds the
 *   leadership until SIGINT/SIGTERM (then resigns, exit 0) or until the session's lease is lost
 *   (`Error: elect: session expired`, exit 1).
 * - Listen (`-l`): prints every proclamation (leader key and value) as it happens until
 *   SIGINT/SIGTERM (exit 0); `Error: elect: observer lost` when the observation ends by itself.
 */
import { create } from "@bufbuild/protobuf";
import { RangeResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { campaign, observe, resign } from "../../server/concurrency/election.ts";
import { DEFAULT_SESSION_TTL_S } from "../../server/concurrency/session.ts";
import type { EtcdClient } from "../client.ts";
import { ctlError } from "../concurrency/errors.ts";
import { GrpcKvClient } from "../concurrency/grpc-kv-client.ts";
import { aborted, interruptSignal } from "../concurrency/interrupt.ts";
import { CliSession } from "../concurrency/session.ts";
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import type { Output } from "../output.ts";
import type { Printer } from "../print/printer.ts";
import type { CommandSpec } from "./types.ts";

/** `elect -l`: prints proclamations until interrupted. */
async function listen(
  client: EtcdClient,
  session: CliSession,
  name: Uint8Array,
  printer: Printer,
  out: Output,
  interrupt: AbortSignal,
): Promise<void> {
  try {
    for await (const p of observe(new GrpcKvClient(client), name, interrupt)) {
      printer.get(create(RangeResponseSchema, { header: p.header, kvs: [p.kv] }));
      await out.flush();
    }
  } catch (e) {
    if (!interrupt.aborted) throw ctlError(e);
  } finally {
    await session.orphan();
  }
  if (!interrupt.aborted) throw new CtlError(ExitCode.Error, "elect: observer lost");
}

/** `elect <name> <proposal>`: campaigns, prints the leadership, holds it until interrupted. */
async function runCampaign(
  client: EtcdClient,
  session: CliSession,
  name: Uint8Array,
  proposal: string,
  printer: Printer,
  out: Output,
  interrupt: AbortSignal,
): Promise<void> {
  const kv = new GrpcKvClient(client);
  let won;
  try {
    won = await campaign(kv, name, session.lease, new TextEncoder().encode(proposal), interrupt);
  } catch (e) {
    throw ctlError(e);
  }
  const got = await client.call((s, o) => s.kv.range({ key: won.leader.key }, o), { timeoutMs: null });
  printer.get(got);
  await out.flush();
  const outcome = await Promise.race([aborted(interrupt).then(() => "interrupted"), session.done.then(() => "expired")]);
  if (outcome !== "interrupted") throw new CtlError(ExitCode.Error, "elect: session expired");
  await session.orphan();
  await resign(kv, won.leader);
}

/** `elect <election-name> [proposal]`. */
export const electCommand: CommandSpec = {
  path: ["elect"],
  usage: "<election-name> [proposal]",
  description: "Observes and participates in leader election",
  flags: [{ name: "listen", short: "l", type: "bool", default: false, description: "observation mode" }],
  async run(ctx) {
    if (ctx.args.length !== 1 && ctx.args.length !== 2) {
      throw badArgs("elect takes one election name argument and an optional proposal argument");
    }
    const { client, printer } = await ctx.connect();
    const listening = ctx.flags.bool("listen");
    if (ctx.args.length === 1 && !listening) throw badArgs("no proposal argument but -l not set");
    if (ctx.args.length === 2 && listening) throw badArgs("proposal given but -l is set");
    const name = new TextEncoder().encode(ctx.args[0]!);
    // As etcdctl, signals are caught only once the session exists: until then SIGINT just ends it.
    const session = await CliSession.open(client, Number(DEFAULT_SESSION_TTL_S));
    const interrupt = interruptSignal();
    try {
      if (listening) await listen(client, session, name, printer, ctx.out, interrupt.signal);
      else await runCampaign(client, session, name, ctx.args[1]!, printer, ctx.out, interrupt.signal);
    } finally {
      interrupt.release();
    }
  },
};
