/**
 * `etcdctl lease grant|revoke|timetolive|list|keep-alive` (etcdctl 3.4 `lease_command.go` on
 * clientv3's lessor). Lease IDs are read as hex (strconv.ParseInt(arg, 16, 64)) and printed as
 * `%016x` in the simple format.
 *
 * `keep-alive` behaves like clientv3's KeepAlive: one bidi LeaseKeepAlive stream, a request right
 * away and then a third of the returned TTL after each answer (checked every 500 ms), every
 * answer printed; it ends when an answer carries TTL <= 0 (lease expired or revoked) or when no
 * answer came within the last TTL (the first deadline is the keepalive timeout), printing
 * `lease <id> expired or revoked.` in the simple format. A broken stream is reopened after 500 ms.
 * `keep-alive --once` sends one request and fails with `etcdserver: requested lease not found`
 * (exit 2) for a gone lease.
 */
import { create } from "@bufbuild/protobuf";
import {
  LeaseKeepAliveRequestSchema,
  type LeaseKeepAliveRequest,
  type LeaseKeepAliveResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../../server/errors.ts";
import { type EtcdClient } from "../client.ts";
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import { GoSyntaxError, goParseInt } from "../go/strconv.ts";
import { RequestQueue } from "../request-queue.ts";
import { SimplePrinter } from "../print/simple.ts";
import { leaseHex } from "../print/lease.ts";
import type { CommandSpec } from "./types.ts";

const GROUP = "Lease related commands";
/** clientv3's retryConnWait and keep-alive send-loop period, ms. */
const RETRY_MS = 500;

/**
 * A lease ID argument (hex, int64), as etcdctl's `leaseFromArgs`.
 * @throws CtlError exit 128 `bad lease ID arg (strconv.ParseInt: ...), expecting ID in Hex`
 */
export function leaseFromArg(arg: string): bigint {
  try {
    return goParseInt(arg, 16);
  } catch (e) {
    if (!(e instanceof GoSyntaxError)) throw e;
    throw badArgs(`bad lease ID arg (${e.message}), expecting ID in Hex`);
  }
}

/** Rewrites the `Error:` text of a failed call to `<prefix> (<error>)`, keeping the exit code. */
async function wrapped<T>(prefix: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CtlError && !e.verbatim) throw new CtlError(e.exitCode, `${prefix} (${e.message})`);
    throw e;
  }
}

/** Re-labels a failed call with exit 2 (etcdctl's ExitBadConnection for timetolive/list/keep-alive). */
async function badConnection<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CtlError && !e.verbatim) throw new CtlError(ExitCode.BadConnection, e.message);
    throw e;
  }
}

/** `lease grant <ttl>`. */
export const leaseGrantCommand: CommandSpec = {
  path: ["lease", "grant"],
  usage: "<ttl>",
  description: "Creates leases",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease grant command needs TTL argument");
    let ttl: bigint;
    try {
      ttl = goParseInt(ctx.args[0]!, 10);
    } catch (e) {
      if (!(e instanceof GoSyntaxError)) throw e;
      throw badArgs(`bad TTL (${e.message})`);
    }
    const { client, printer } = await ctx.connect();
    const resp = await wrapped("failed to grant lease", client.call((s, o) => s.lease.leaseGrant({ TTL: ttl }, o)));
    printer.leaseGrant(resp);
  },
};

/** `lease revoke <leaseID>`. */
export const leaseRevokeCommand: CommandSpec = {
  path: ["lease", "revoke"],
  usage: "<leaseID>",
  description: "Revokes leases",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease revoke command needs 1 argument");
    const id = leaseFromArg(ctx.args[0]!);
    const { client, printer } = await ctx.connect();
    const resp = await wrapped("failed to revoke lease", client.call((s, o) => s.lease.leaseRevoke({ ID: id }, o)));
    printer.leaseRevoke(id, resp);
  },
};

/** `lease timetolive <leaseID> [--keys]`. */
export const leaseTimeToLiveCommand: CommandSpec = {
  path: ["lease", "timetolive"],
  usage: "<leaseID> [options]",
  description: "Get lease information",
  groupDescription: GROUP,
  flags: [{ name: "keys", type: "bool", default: false, description: "Get keys attached to this lease" }],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease timetolive command needs lease ID as argument");
    const id = leaseFromArg(ctx.args[0]!);
    const keys = ctx.flags.bool("keys");
    const { client, printer } = await ctx.connect();
    const resp = await badConnection(
      client.call((s, o) => s.lease.leaseTimeToLive({ ID: id, keys }, o), { timeoutMs: null }),
    );
    printer.leaseTimeToLive(resp, keys);
  },
};

/** `lease list`. */
export const leaseListCommand: CommandSpec = {
  path: ["lease", "list"],
  usage: "",
  description: "List all active leases",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    const { client, printer } = await ctx.connect();
    const resp = await badConnection(client.call((s, o) => s.lease.leaseLeases({}, o), { timeoutMs: null }));
    printer.leaseList(resp);
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One keep-alive on a fresh stream (clientv3's KeepAliveOnce). */
async function keepAliveOnce(client: EtcdClient, id: bigint): Promise<LeaseKeepAliveResponse> {
  return badConnection(
    client.call(
      async (s, o) => {
        const queue = new RequestQueue<LeaseKeepAliveRequest>();
        queue.push(create(LeaseKeepAliveRequestSchema, { ID: id }));
        try {
          for await (const resp of s.lease.leaseKeepAlive(queue, o)) {
            if (resp.TTL <= 0n) throw new CtlError(ExitCode.BadConnection, Errors.LeaseNotFound().rawMessage);
            return resp;
          }
        } finally {
          queue.close();
        }
        throw new CtlError(ExitCode.BadConnection, "rpc error: code = Canceled desc = context canceled");
      },
      { timeoutMs: null },
    ),
  );
}

/** Mutable state of a keep-alive: when the next request is due and when the lease counts as lost. */
interface KeepAliveState {
  /** Time after which, without an answer, the lease counts as expired (ms since the epoch). */
  deadline: number;
}

/**
 * One LeaseKeepAlive stream: a request now, the next a third of the answered TTL later, every
 * answer printed. Resolves "gone" on an answer with TTL <= 0, "lost" once `state.deadline` passes
 * without an answer, "broken" when the stream fails or ends.
 */
async function keepAliveStream(
  client: EtcdClient,
  id: bigint,
  state: KeepAliveState,
  onAnswer: KeepAliveListener,
  stop: AbortSignal | undefined,
): Promise<"gone" | "lost" | "broken"> {
  const abort = new AbortController();
  const onStop = () => abort.abort();
  stop?.addEventListener("abort", onStop, { once: true });
  const queue = new RequestQueue<LeaseKeepAliveRequest>();
  const request = create(LeaseKeepAliveRequestSchema, { ID: id });
  let next: ReturnType<typeof setTimeout> | undefined;
  const watchdog = setInterval(() => Date.now() >= state.deadline && abort.abort(), RETRY_MS);
  queue.push(request);
  try {
    // The call's own deadline only bounds connecting; the stream lives on `abort`.
    return await client.call(
      async (s) => {
        for await (const resp of s.lease.leaseKeepAlive(queue, { signal: abort.signal })) {
          if (resp.TTL <= 0n) return "gone";
          await onAnswer(resp);
          const ttlMs = Number(resp.TTL) * 1000;
          state.deadline = Date.now() + ttlMs;
          clearTimeout(next);
          next = setTimeout(() => queue.push(request), ttlMs / 3);
        }
        return "broken";
      },
      { timeoutMs: Math.max(1, state.deadline - Date.now()) },
    );
  } catch {
    return abort.signal.aborted ? "lost" : "broken";
  } finally {
    clearTimeout(next);
    clearInterval(watchdog);
    stop?.removeEventListener("abort", onStop);
    queue.close();
  }
}

/** Called with every keep-alive answer of a live lease (TTL > 0). */
export type KeepAliveListener = (resp: LeaseKeepAliveResponse) => void | Promise<void>;

/**
 * clientv3's KeepAlive for one lease: streams until the lease is gone, no answer came in time or
 * `stop` aborts, reopening a broken stream after 500 ms. `firstDeadlineMs`: how long to wait for
 * the first answer.
 */
export async function keepAliveLoop(
  client: EtcdClient,
  id: bigint,
  firstDeadlineMs: number,
  onAnswer: KeepAliveListener,
  stop?: AbortSignal,
): Promise<void> {
  const state: KeepAliveState = { deadline: Date.now() + firstDeadlineMs };
  for (;;) {
    const outcome = await keepAliveStream(client, id, state, onAnswer, stop);
    if (stop?.aborted || outcome !== "broken" || Date.now() >= state.deadline) return;
    await sleep(RETRY_MS);
  }
}

/** `lease keep-alive [--once] <leaseID>`. */
export const leaseKeepAliveCommand: CommandSpec = {
  path: ["lease", "keep-alive"],
  usage: "[options] <leaseID>",
  description: "Keeps leases alive (renew)",
  groupDescription: GROUP,
  flags: [
    {
      name: "once",
      type: "bool",
      default: false,
      description: "Resets the keep-alive time to its original value and exits immediately",
    },
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease keep-alive command needs lease ID as argument");
    const id = leaseFromArg(ctx.args[0]!);
    const { client, printer } = await ctx.connect();
    if (ctx.flags.bool("once")) {
      printer.leaseKeepAlive(await keepAliveOnce(client, id));
      return;
    }
    await keepAliveLoop(client, id, client.config.keepAliveTimeoutMs, async (resp) => {
      printer.leaseKeepAlive(resp);
      await ctx.out.flush();
    });
    if (printer instanceof SimplePrinter) ctx.out.println(`lease ${leaseHex(id)} expired or revoked.`);
  },
};

/** Every lease command, in etcdctl's help order. */
export const LEASE_COMMANDS: CommandSpec[] = [
  leaseGrantCommand,
  leaseRevokeCommand,
  leaseTimeToLiveCommand,
  leaseListCommand,
  leaseKeepAliveCommand,
];
