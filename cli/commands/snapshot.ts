/**
 * `etcdctl snapshot save|status|restore` (etcdctl 3.4 `ctlv3/command/snapshot_command.go`,
 * `clientv3/snapshot/v3_snapshot.go`), with etcdctl's messages, log lines and exit codes.
 *
 * - `save <file>`: streams Maintenance.Snapshot from the one endpoint into `<file>.part`
 *   (mode 0600), checks that a SHA-256 trails it (`sha256 checksum not found [bytes: n]`),
 *   syncs and renames it, prints `Snapshot saved at <file>`. No deadline for the transfer
 *   unless `--command-timeout` is given. Errors exit 5 (etcdctl's ExitInterrupted), e.g.
 *   `snapshot must be requested to one selected node, not multiple [a b]`. One deliberate
 *   difference: an endpoint that cannot be reached within `--dial-timeout` fails with
 *   `context deadline exceeded` (Go's etcdctl 3.4 waits for it forever).
 * - `status <file>`: hash, revision, total keys, total size in every `-w` format
 *   (server/snapshot/status.ts); errors exit 1.
 * - `restore <file>`: a new data dir in our format (server/snapshot/restore.ts, which uses
 *   node:sqlite, so this works under Bun and Deno alike); errors exit 1. etcd 3.5.10+'s
 *   `--bump-revision` and `--mark-compacted` (etcdutl/etcdutl/snapshot_command.go) are accepted
 *   too, both or neither.
 * All three: a wrong argument count exits 128.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { snapshotStatus } from "../../server/snapshot/status.ts";
import { badArgs, CtlError, ExitCode, flagError } from "../errors.ts";
import { goPathError } from "../go/errno.ts";
import { humanizeBytes } from "../go/humanize.ts";
import { zapLine } from "../zap-line.ts";
import type { CommandContext, CommandSpec } from "./types.ts";

const GROUP = "Manages etcd node snapshots";

/** An Error's message for `Error: ...` lines. */
function message(e: unknown): string {
  return e instanceof CtlError || e instanceof Error ? e.message : String(e);
}

/** etcd's hasChecksum: the stream ends with a SHA-256 when its size is 32 past a multiple of 512. */
function hasChecksum(size: number): boolean {
  return size % 512 === 32;
}

async function save(ctx: CommandContext): Promise<void> {
  if (ctx.args.length !== 1) throw badArgs("snapshot save expects one argument");
  const path = ctx.args[0]!;
  const log = (style: "epoch" | "iso", caller: string, msg: string, fields: Record<string, unknown> = {}) =>
    ctx.out.eprintln(zapLine(style, caller, msg, fields, Date.now()));
  const { global } = ctx.display();
  try {
    if (global.endpoints.length !== 1) {
      throw new Error(`snapshot must be requested to one selected node, not multiple [${global.endpoints.join(" ")}]`);
    }
    const endpoint = global.endpoints[0]!;
    const { client } = await ctx.connect();
    // clientv3.New dials within --dial-timeout before anything else.
    await client.call((s, o) => s.maintenance.status({}, o), { endpoint, timeoutMs: global.dialTimeoutMs, repeatable: true });
    const part = `${path}.part`;
    let fd: number;
    try {
      fd = openSync(part, "w", 0o600);
    } catch (e) {
      throw new Error(`could not open ${part} (${goPathError("open", part, e)})`);
    }
    try {
      log("epoch", "snapshot/v3_snapshot.go:119", "created temporary db file", { path: part });
      const started = Date.now();
      const timeoutMs = ctx.flags.changed.has("command-timeout") ? global.commandTimeoutMs : null;
      const size = await client.call(
        async (s, o) => {
          let written = 0;
          let opened = false;
          for await (const resp of s.maintenance.snapshot({}, o)) {
            if (!opened) {
              opened = true;
              log("iso", "clientv3/maintenance.go:200", "opened snapshot stream; downloading");
              log("epoch", "snapshot/v3_snapshot.go:127", "fetching snapshot", { endpoint });
            }
            for (let done = 0; done < resp.blob.length; ) done += writeSync(fd, resp.blob, done, resp.blob.length - done, written + done);
            written += resp.blob.length;
          }
          log("iso", "clientv3/maintenance.go:208", "completed snapshot read; closing");
          return written;
        },
        { endpoint, timeoutMs },
      );
      if (!hasChecksum(size)) throw new Error(`sha256 checksum not found [bytes: ${size}]`);
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
      log("epoch", "snapshot/v3_snapshot.go:142", "fetched snapshot", {
        endpoint,
        size: humanizeBytes(size),
        took: (Date.now() - started) / 1000,
      });
      renameSync(part, path);
      log("epoch", "snapshot/v3_snapshot.go:152", "saved", { path });
    } finally {
      if (fd !== -1) closeSync(fd);
      rmSync(part, { force: true });
    }
  } catch (e) {
    throw new CtlError(ExitCode.Interrupted, message(e));
  }
  ctx.out.println(`Snapshot saved at ${path}`);
}

/** `snapshot save <filename>`. */
export const snapshotSaveCommand: CommandSpec = {
  path: ["snapshot", "save"],
  usage: "<filename>",
  description: "Stores an etcd node backend snapshot to a given file",
  groupDescription: GROUP,
  flags: [],
  run: save,
};

/** `snapshot status <filename>`. */
export const snapshotStatusCommand: CommandSpec = {
  path: ["snapshot", "status"],
  usage: "<filename>",
  description: "Gets backend snapshot status of a given file",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("snapshot status requires exactly one argument");
    const { printer } = ctx.display();
    let status;
    try {
      status = snapshotStatus(ctx.args[0]!);
    } catch (e) {
      throw new CtlError(ExitCode.Error, message(e));
    }
    printer.dbStatus(status);
  },
};

/** `snapshot restore <filename> [options]`. */
export const snapshotRestoreCommand: CommandSpec = {
  path: ["snapshot", "restore"],
  usage: "<filename> [options]",
  description: "Restores an etcd member snapshot to an etcd directory",
  groupDescription: GROUP,
  flags: [
    { name: "data-dir", type: "string", default: "", description: "Path to the data directory" },
    { name: "wal-dir", type: "string", default: "", description: "Path to the WAL directory (use --data-dir if none given)" },
    { name: "initial-cluster", type: "string", default: "default=http://localhost:2380", description: "Initial cluster configuration for restore bootstrap" },
    { name: "initial-cluster-token", type: "string", default: "etcd-cluster", description: "Initial cluster token for the etcd cluster during restore bootstrap" },
    { name: "initial-advertise-peer-urls", type: "string", default: "http://localhost:2380", description: "List of this member's peer URLs to advertise to the rest of the cluster" },
    { name: "name", type: "string", default: "default", description: "Human-readable name for this member" },
    { name: "skip-hash-check", type: "bool", default: false, description: "Ignore snapshot integrity hash value (required if copied from data directory)" },
    { name: "bump-revision", type: "int64", default: 0n, description: "How much to increase the latest revision after restore (etcd 3.5.10+)" },
    { name: "mark-compacted", type: "bool", default: false, description: "Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise) (etcd 3.5.10+)" },
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("snapshot restore requires exactly one argument");
    const f = ctx.flags;
    // etcd 3.5's etcdutl: a uint64 flag, and both flags or neither (its message names the flag --revision-bump).
    const bump = f.int64("bump-revision");
    if (bump < 0n) {
      throw flagError(`invalid argument "${bump}" for "--bump-revision" flag: strconv.ParseUint: parsing "${bump}": invalid syntax`);
    }
    if ((bump === 0n) === f.bool("mark-compacted")) throw badArgs("--mark-compacted required if --revision-bump > 0");
    // Our data dir has no separate WAL: the log lives in the backend.
    if (f.string("wal-dir") !== "") throw badArgs("--wal-dir is not supported: this etcd keeps its log in <data-dir>/member/db");
    // Loaded here so that other commands do not load node:sqlite.
    const { restoreSnapshot } = await import("../../server/snapshot/restore.ts");
    try {
      restoreSnapshot(
        {
          snapshotPath: ctx.args[0]!,
          name: f.string("name"),
          dataDir: f.string("data-dir"),
          initialCluster: f.string("initial-cluster"),
          initialClusterToken: f.string("initial-cluster-token"),
          initialAdvertisePeerUrls: f.string("initial-advertise-peer-urls"),
          skipHashCheck: f.bool("skip-hash-check"),
          bumpRevision: Number(bump),
          markCompacted: f.bool("mark-compacted"),
        },
        (caller, msg, fields) => ctx.out.eprintln(zapLine("epoch", caller, msg, fields, Date.now())),
      );
    } catch (e) {
      throw new CtlError(ExitCode.Error, message(e));
    }
  },
};

/** The snapshot commands, in etcdctl's help order. */
export const SNAPSHOT_COMMANDS: CommandSpec[] = [snapshotSaveCommand, snapshotRestoreCommand, snapshotStatusCommand];
