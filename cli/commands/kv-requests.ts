/**
 * Turns `put`/`get`/`del` arguments and flags into etcd requests, with etcdctl 3.4's validation
 * order and messages (`getPutOp`, `getGetOp`, `getDelOp` in `ctlv3/command/*_command.go`) and
 * clientv3's option semantics (`WithPrefix`, `WithFromKey`, `WithSort` in `clientv3/op.go`).
 * Shared by the commands themselves and by `txn`, whose operation lines use the same syntax.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type DeleteRangeRequestSchema,
  type PutRequestSchema,
  type RangeRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { badArgs, CtlError, ExitCode } from "../errors.ts";
import type { FlagSet, FlagSpec } from "../flags.ts";
import { goParseInt, goQuote, GoSyntaxError } from "../go/strconv.ts";
import { utf8 } from "../go/utf8.ts";

/** Init shape of a RangeRequest. */
export type RangeInit = MessageInitShape<typeof RangeRequestSchema>;
/** Init shape of a PutRequest. */
export type PutInit = MessageInitShape<typeof PutRequestSchema>;
/** Init shape of a DeleteRangeRequest. */
export type DeleteInit = MessageInitShape<typeof DeleteRangeRequestSchema>;

/** Flags of `put` (etcdctl 3.4 `put_command.go`). */
export const PUT_FLAGS: FlagSpec[] = [
  { name: "lease", type: "string", default: "0", description: "lease ID (in hexadecimal) to attach to the key" },
  { name: "prev-kv", type: "bool", default: false, description: "return the previous key-value pair before modification" },
  { name: "ignore-value", type: "bool", default: false, description: "updates the key using its current value" },
  { name: "ignore-lease", type: "bool", default: false, description: "updates the key using its current lease" },
];

/** Flags of `get` (etcdctl 3.4 `get_command.go`, plus 3.5's `--count-only`). */
export const GET_FLAGS: FlagSpec[] = [
  { name: "consistency", type: "string", default: "l", description: "Linearizable(l) or Serializable(s)" },
  { name: "order", type: "string", default: "", description: "Order of results; ASCEND or DESCEND (ASCEND by default)" },
  { name: "sort-by", type: "string", default: "", description: "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION" },
  { name: "limit", type: "int64", default: 0n, description: "Maximum number of results" },
  { name: "prefix", type: "bool", default: false, description: "Get keys with matching prefix" },
  {
    name: "from-key",
    type: "bool",
    default: false,
    description: "Get keys that are greater than or equal to the given key using byte compare",
  },
  { name: "rev", type: "int64", default: 0n, description: "Specify the kv revision" },
  { name: "keys-only", type: "bool", default: false, description: "Get only the keys" },
  { name: "count-only", type: "bool", default: false, description: "Get only the count" },
  {
    name: "print-value-only",
    type: "bool",
    default: false,
    description: 'Only write values when using the "simple" output format',
  },
];

/** Flags of `del` (etcdctl 3.4 `del_command.go`). */
export const DEL_FLAGS: FlagSpec[] = [
  { name: "prefix", type: "bool", default: false, description: "delete keys with matching prefix" },
  { name: "prev-kv", type: "bool", default: false, description: "return deleted key-value pairs" },
  {
    name: "from-key",
    type: "bool",
    default: false,
    description: "delete keys that are greater than or equal to the given key using byte compare",
  },
];

const ZERO_KEY = Uint8Array.of(0);

/** clientv3's `getPrefix`: the key with its last non-0xff byte incremented; `\0` if all bytes are 0xff. */
export function prefixEnd(key: Uint8Array): Uint8Array {
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i]! < 0xff) {
      const end = key.slice(0, i + 1);
      end[i]! += 1;
      return end;
    }
  }
  return ZERO_KEY;
}

const PREFIX_AND_FROM_KEY = "`--prefix` and `--from-key` cannot be set at the same time, choose one";
const TOO_MANY_WITH_RANGE = "too many arguments, only accept one argument when `--prefix` or `--from-key` is set";

/**
 * Key and range end for `--prefix` / `--from-key` (an empty key means the whole keyspace from `\0`).
 */
function applyRangeFlags(key: Uint8Array, end: Uint8Array | undefined, prefix: boolean, fromKey: boolean) {
  if (prefix) {
    if (key.length === 0) return { key: ZERO_KEY, rangeEnd: ZERO_KEY };
    return { key, rangeEnd: prefixEnd(key) };
  }
  if (fromKey) return { key: key.length === 0 ? ZERO_KEY : key, rangeEnd: ZERO_KEY };
  return { key, rangeEnd: end };
}

const SORT_ORDERS: Record<string, RangeRequest_SortOrder> = {
  ASCEND: RangeRequest_SortOrder.ASCEND,
  DESCEND: RangeRequest_SortOrder.DESCEND,
  "": RangeRequest_SortOrder.NONE,
};

const SORT_TARGETS: Record<string, RangeRequest_SortTarget> = {
  CREATE: RangeRequest_SortTarget.CREATE,
  KEY: RangeRequest_SortTarget.KEY,
  MODIFY: RangeRequest_SortTarget.MOD,
  VALUE: RangeRequest_SortTarget.VALUE,
  VERSION: RangeRequest_SortTarget.VERSION,
  "": RangeRequest_SortTarget.KEY,
};

/**
 * `get <key> [range_end]` -> RangeRequest.
 * @throws CtlError exit 128 for argument errors, exit 4 for bad `--consistency`/`--order`/`--sort-by`
 */
export function rangeRequest(args: string[], f: FlagSet): RangeInit {
  if (args.length === 0) throw badArgs("get command needs one argument as key and an optional argument as range_end");
  const prefix = f.bool("prefix");
  const fromKey = f.bool("from-key");
  if (prefix && fromKey) throw badArgs(PREFIX_AND_FROM_KEY);
  const consistency = f.string("consistency");
  if (consistency !== "s" && consistency !== "l") {
    throw new CtlError(ExitCode.BadFeature, `unknown consistency flag ${goQuote(consistency)}`);
  }
  if (args.length > 1 && (prefix || fromKey)) throw badArgs(TOO_MANY_WITH_RANGE);
  let sortOrder = SORT_ORDERS[f.string("order").toUpperCase()];
  if (sortOrder === undefined) throw new CtlError(ExitCode.BadFeature, `bad sort order ${f.string("order")}`);
  const sortTarget = SORT_TARGETS[f.string("sort-by").toUpperCase()];
  if (sortTarget === undefined) throw new CtlError(ExitCode.BadFeature, `bad sort target ${f.string("sort-by")}`);
  // clientv3.WithSort: ascending by key is the server's natural order, so no sort is requested.
  if (sortTarget === RangeRequest_SortTarget.KEY && sortOrder === RangeRequest_SortOrder.ASCEND) {
    sortOrder = RangeRequest_SortOrder.NONE;
  }
  const rev = f.int64("rev");
  return {
    ...applyRangeFlags(utf8(args[0]!), args.length > 1 ? utf8(args[1]!) : undefined, prefix, fromKey),
    limit: f.int64("limit"),
    revision: rev > 0n ? rev : 0n,
    sortOrder,
    sortTarget,
    serializable: consistency === "s",
    keysOnly: f.bool("keys-only"),
    countOnly: f.bool("count-only"),
  };
}

const PUT_ARGS = "put command needs 1 argument and input from stdin or 2 arguments";

/**
 * `put <key> [value]` -> PutRequest.
 * @param readValue supplies the value when it is not an argument (etcdctl reads all of stdin)
 * @throws CtlError exit 128 for missing/extra arguments or a lease ID that is not hex
 */
export async function putRequest(args: string[], f: FlagSet, readValue: () => Promise<Uint8Array>): Promise<PutInit> {
  if (args.length === 0) throw badArgs(PUT_ARGS);
  const ignoreValue = f.bool("ignore-value");
  if (ignoreValue && args.length > 1) throw badArgs("put command needs only 1 argument when 'ignore-value' is set");
  let value: Uint8Array = new Uint8Array(0);
  if (!ignoreValue) {
    value = args.length > 1 ? utf8(args[1]!) : await readValue();
    if (value.length === 0 && args.length < 2) throw badArgs(PUT_ARGS);
  }
  let lease: bigint;
  try {
    lease = goParseInt(f.string("lease"), 16);
  } catch (e) {
    if (!(e instanceof GoSyntaxError)) throw e;
    throw badArgs(`bad lease ID (${e.message}), expecting ID in Hex`);
  }
  return {
    key: utf8(args[0]!),
    value,
    lease,
    prevKv: f.bool("prev-kv"),
    ignoreValue,
    ignoreLease: f.bool("ignore-lease"),
  };
}

/**
 * `del <key> [range_end]` -> DeleteRangeRequest.
 * @throws CtlError exit 128 for argument errors
 */
export function deleteRequest(args: string[], f: FlagSet): DeleteInit {
  if (args.length === 0 || args.length > 2) {
    throw badArgs("del command needs one argument as key and an optional argument as range_end");
  }
  const prefix = f.bool("prefix");
  const fromKey = f.bool("from-key");
  if (prefix && fromKey) throw badArgs(PREFIX_AND_FROM_KEY);
  if (args.length > 1 && (prefix || fromKey)) throw badArgs(TOO_MANY_WITH_RANGE);
  return {
    ...applyRangeFlags(utf8(args[0]!), args.length > 1 ? utf8(args[1]!) : undefined, prefix, fromKey),
    prevKv: f.bool("prev-kv"),
  };
}
