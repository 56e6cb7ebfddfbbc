/**
 * `etcdctl migrate --data-dir <dir> [--no-ttl] [--transformer <program>]` (etcdctl 3.4
 * `ctlv3/command/migrate_command.go`): moves a stopped member's v2 keys into its v3 keyspace
 * (server/recovery/migrate.ts). Prints `using default transformer` (without `--transformer`),
 * then `finished transforming keys`; `no v2 keys to migrate` (exit 0) when the store holds none.
 *
 * A `--transformer` program gets the v2 nodes on its stdin as concatenated Go JSON objects and
 * answers on its stdout with `mvccpb.KeyValue` messages, each after its length as a
 * little-endian int64, as etcd's; its stderr is passed through. A failing transformer prints
 * `failed to transform keys` and `Error: ...`, exit 1. `--wal-dir` is refused: our log lives in
 * `<data-dir>/member/db`.
 */
import { spawn } from "node:child_process";
import { fromBinary } from "@bufbuild/protobuf";
import { KeyValueSchema, type KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import type { CommandSpec } from "./types.ts";
import type { MigratedKey, V2NodeJson } from "../../server/recovery/migrate.ts";

/** Go's JSON of a v2 node (v2store.NodeExtern): fields in struct order, empty ones left out. */
function nodeJson(n: V2NodeJson): string {
  const o: Record<string, unknown> = { key: n.key };
  if (n.dir) o.dir = true;
  if (n.value !== undefined && n.value !== "") o.value = n.value;
  if (n.createdIndex) o.createdIndex = n.createdIndex;
  if (n.modifiedIndex) o.modifiedIndex = n.modifiedIndex;
  if (n.expiration) o.expiration = n.expiration;
  if (n.ttl) o.ttl = n.ttl;
  return JSON.stringify(o);
}

/** Splits the transformer's output into KeyValues (each an int64 LE length, then the message). */
function decodeKeyValues(out: Buffer): KeyValue[] {
  const kvs: KeyValue[] = [];
  for (let at = 0; at < out.length; ) {
    if (at + 8 > out.length) throw new Error("unexpected EOF");
    const length = Number(out.readBigInt64LE(at));
    if (length < 0 || at + 8 + length > out.length) throw new Error("unexpected EOF");
    kvs.push(fromBinary(KeyValueSchema, out.subarray(at + 8, at + 8 + length)));
    at += 8 + length;
  }
  return kvs;
}

/** Runs `program` with the nodes on its stdin; resolves with the KeyValues it wrote. */
function runTransformer(program: string, nodes: V2NodeJson[]): Promise<KeyValue[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [], { stdio: ["pipe", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    child.stdout!.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) return reject(new Error(signal ? `signal: ${signal}` : `exit status ${code}`));
      try {
        resolve(decodeKeyValues(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    });
    child.stdin!.on("error", () => {}); // a transformer that exits early: its exit status tells
    child.stdin!.end(nodes.map(nodeJson).join(""));
  });
}

/** `migrate`. */
export const migrateCommand: CommandSpec = {
  path: ["migrate"],
  usage: "",
  description: "Migrates keys in a v2 store to a mvcc store",
  flags: [
    { name: "no-ttl", type: "bool", default: false, description: "Do not convert TTL keys" },
    { name: "data-dir", type: "string", default: "", description: "Path to the data directory" },
    { name: "wal-dir", type: "string", default: "", description: "Path to the WAL directory" },
    { name: "transformer", type: "string", default: "", description: "Path to the user-provided transformer program" },
  ],
  async run(ctx) {
    const f = ctx.flags;
    if (f.string("wal-dir") !== "") throw badArgs("--wal-dir is not supported: this etcd keeps its log in <data-dir>/member/db");
    const transformer = f.string("transformer");
    if (!transformer) ctx.out.println("using default transformer");
    // Loaded here so that other commands do not load node:sqlite.
    const { defaultTransform, readV2Nodes, writeMigratedKeys } = await import("../../server/recovery/migrate.ts");
    let nodes: V2NodeJson[] | undefined;
    try {
      nodes = readV2Nodes(f.string("data-dir"), { noTtl: f.bool("no-ttl"), nowMs: Date.now() });
    } catch (e) {
      throw new CtlError(ExitCode.Error, (e as Error).message);
    }
    if (!nodes) {
      ctx.out.println("no v2 keys to migrate");
      return;
    }
    let kvs: MigratedKey[];
    try {
      kvs = transformer ? await runTransformer(transformer, nodes) : nodes.flatMap((n) => defaultTransform(n) ?? []);
    } catch (e) {
      ctx.out.println("failed to transform keys");
      throw new CtlError(ExitCode.Error, (e as Error).message);
    }
    try {
      writeMigratedKeys(f.string("data-dir"), kvs);
    } catch (e) {
      throw new CtlError(ExitCode.Error, (e as Error).message);
    }
    ctx.out.println("finished transforming keys");
  },
};
