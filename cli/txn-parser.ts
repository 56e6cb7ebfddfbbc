/**
 * etcdctl's txn input format (`ctlv3/command/txn_command.go`), read line by line from stdin:
 *
 *   compares, one per line: `<target>("<key>") <op> "<value>"`, target ver|version, c|create,
 *     m|mod, val|value (lease compares panic in 3.4), op one of = != < >
 *   a blank line, then success operations (`put`/`get`/`del` command lines), a blank line,
 *   then failure operations and a final blank line.
 *
 * Errors, exit codes and quirks are etcdctl 3.4's, including its panics on unknown compare
 * operators and its single-quote slicing bug in `argify` (it slices by the argument count).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type CompareSchema,
  type RequestOpSchema,
  type TxnRequestSchema,
} from "../proto/gen/etcdserverpb/rpc_pb.ts";
import { CommandFlagError, parseCommandLine } from "./argv.ts";
import { cobraUsage } from "./cobra-usage.ts";
import { delCommand } from "./commands/del.ts";
import { getCommand } from "./commands/get.ts";
import { deleteRequest, putRequest, rangeRequest } from "./commands/kv-requests.ts";
import { putCommand } from "./commands/put.ts";
import { CtlError, ExitCode, goPanic } from "./errors.ts";
import { goParseInt, goQuote, goUnquote, GoSyntaxError } from "./go/strconv.ts";
import { fromUtf8, utf8 } from "./go/utf8.ts";
import type { Output } from "./output.ts";
import type { Stdin } from "./stdin.ts";

/** Init shape of a TxnRequest. */
export type TxnInit = MessageInitShape<typeof TxnRequestSchema>;
type CompareInit = MessageInitShape<typeof CompareSchema>;
type RequestOpInit = MessageInitShape<typeof RequestOpSchema>;

function invalidInput(message: string): CtlError {
  return new CtlError(ExitCode.InvalidInput, message);
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f";

/** Result of Go's `fmt.Sscanf(rest, "%q) %s %q", &key, &op, &val)`: `n` operands were filled. */
interface CompareScan {
  n: number;
  key: Uint8Array;
  op: string;
  val: Uint8Array;
}

/** Scans `"<key>") <op> "<value>"` with Sscanf's rules (a format space needs at least one input space). */
export function scanCompare(input: string): CompareScan {
  const scan: CompareScan = { n: 0, key: new Uint8Array(0), op: "", val: new Uint8Array(0) };
  let pos = 0;
  const skipSpace = () => {
    while (isSpace(input[pos])) pos++;
  };
  const quoted = (): Uint8Array | undefined => {
    skipSpace();
    const q = input[pos];
    let end = -1;
    if (q === "`") end = input.indexOf("`", pos + 1);
    else if (q === '"') {
      for (let i = pos + 1; i < input.length; i++) {
        if (input[i] === "\\") i++;
        else if (input[i] === '"') {
          end = i;
          break;
        }
      }
    }
    if (end < 0) return undefined;
    try {
      const bytes = goUnquote(input.slice(pos, end + 1));
      pos = end + 1;
      return bytes;
    } catch {
      return undefined;
    }
  };
  const formatSpace = () => {
    if (pos < input.length && !isSpace(input[pos])) return false;
    skipSpace();
    return true;
  };

  const key = quoted();
  if (!key) return scan;
  scan.key = key;
  scan.n = 1;
  if (input[pos] !== ")") return scan;
  pos++;
  if (!formatSpace()) return scan;
  skipSpace();
  const start = pos;
  while (pos < input.length && !isSpace(input[pos])) pos++;
  if (pos === start) return scan;
  scan.op = input.slice(start, pos);
  scan.n = 2;
  if (!formatSpace()) return scan;
  const val = quoted();
  if (!val) return scan;
  scan.val = val;
  scan.n = 3;
  return scan;
}

const RESULTS: Record<string, Compare_CompareResult> = {
  "=": Compare_CompareResult.EQUAL,
  "!=": Compare_CompareResult.NOT_EQUAL,
  ">": Compare_CompareResult.GREATER,
  "<": Compare_CompareResult.LESS,
};

/** clientv3.Compare's operator mapping; anything else panics there. */
function compareResult(op: string): Compare_CompareResult {
  const r = RESULTS[op];
  if (r === undefined) throw goPanic("Unknown result op");
  return r;
}

const INT_TARGETS: Record<string, [Compare_CompareTarget, "version" | "createRevision" | "modRevision"]> = {
  ver: [Compare_CompareTarget.VERSION, "version"],
  version: [Compare_CompareTarget.VERSION, "version"],
  c: [Compare_CompareTarget.CREATE, "createRevision"],
  create: [Compare_CompareTarget.CREATE, "createRevision"],
  m: [Compare_CompareTarget.MOD, "modRevision"],
  mod: [Compare_CompareTarget.MOD, "modRevision"],
};

/**
 * One compare line (already trimmed) -> Compare.
 * @throws CtlError exit 3 `malformed comparison: ...` / `invalid txn compare request: ...`;
 *   exit 2 `panic: Unknown result op` or `panic: bad value` (lease compares) as etcdctl 3.4
 */
export function parseCompare(line: string): CompareInit {
  const lparen = line.indexOf("(");
  if (lparen < 0) throw invalidInput(`malformed comparison: ${line}`);
  const target = line.slice(0, lparen);
  const scan = scanCompare(line.slice(lparen + 1));
  if (scan.n !== 3) {
    throw invalidInput(`malformed comparison: ${line}; got ${target}(${goQuote(scan.key)}) ${scan.op} ${goQuote(scan.val)}`);
  }
  const intTarget = INT_TARGETS[target];
  if (intTarget) {
    let v: bigint;
    try {
      v = goParseInt(fromUtf8(scan.val), 10);
    } catch (e) {
      if (!(e instanceof GoSyntaxError)) throw e;
      throw invalidInput(`invalid txn compare request: ${line}`);
    }
    const [t, field] = intTarget;
    return { key: scan.key, target: t, result: compareResult(scan.op), targetUnion: { case: field, value: v } };
  }
  if (target === "val" || target === "value") {
    return {
      key: scan.key,
      target: Compare_CompareTarget.VALUE,
      result: compareResult(scan.op),
      targetUnion: { case: "value", value: scan.val },
    };
  }
  if (target === "lease") {
    compareResult(scan.op);
    throw goPanic("bad value");
  }
  throw invalidInput(`malformed comparison: ${line} (unknown target ${target})`);
}

const ARG_RE = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\t\n\f\r ][^\t\n\f\r ]*[^'"\t\n\f\r ]?/g;

/**
 * etcdctl's `argify`: splits an operation line into arguments; "double quoted" arguments are
 * unquoted Go-style, 'single quoted' ones are sliced `[1 : number of arguments - 1]` as etcdctl
 * 3.4 does (a bug that yields the intended text only by coincidence; out-of-range slices panic).
 * @throws CtlError exit 3 `invalid syntax` for a bad escape; exit 2 for the slicing panic
 */
export function argify(line: string): string[] {
  const args = line.match(ARG_RE) ?? [];
  return args.map((arg) => {
    if (arg.startsWith("'")) {
      const bytes = utf8(arg);
      const hi = args.length - 1;
      if (hi > bytes.length) throw goPanic(`runtime error: slice bounds out of range [:${hi}] with length ${bytes.length}`);
      if (hi < 1) throw goPanic(`runtime error: slice bounds out of range [1:${hi}]`);
      return fromUtf8(bytes.slice(1, hi));
    }
    if (arg.startsWith('"')) {
      try {
        return fromUtf8(goUnquote(arg));
      } catch (e) {
        if (!(e instanceof GoSyntaxError)) throw e;
        throw invalidInput(e.message);
      }
    }
    return arg;
  });
}

/**
 * One operation line (already trimmed), e.g. `put k v --prev-kv`, `get k --prefix`, `del k`.
 * @throws CtlError exit 3 `invalid txn request: <line>` for unknown commands or flags; the
 *   put/get/del argument errors (exit 128/4) as the commands themselves raise them
 */
export async function parseOperation(line: string): Promise<RequestOpInit> {
  const args = argify(line);
  if (args.length < 2) throw invalidInput(`invalid txn compare request: ${line}`);
  let parsed;
  try {
    parsed = parseCommandLine(args, [putCommand, getCommand, delCommand], [], "txn");
  } catch (e) {
    if (!(e instanceof CtlError)) throw e;
    // cobra prints the command's usage on stderr before etcdctl reports the bad line.
    const usage = e instanceof CommandFlagError ? cobraUsage(e.spec) : "";
    throw new CtlError(ExitCode.InvalidInput, `${usage}Error: invalid txn request: ${line}`, true);
  }
  if (parsed.kind !== "run") throw invalidInput(`invalid txn request: ${line}`);
  const { spec, args: opArgs, flags } = parsed;
  if (spec === putCommand) {
    // etcdctl's bufio.Reader has already consumed stdin, so a missing value reads as empty.
    const value = await putRequest(opArgs, flags, async () => new Uint8Array(0));
    return { request: { case: "requestPut", value } };
  }
  if (spec === getCommand) return { request: { case: "requestRange", value: rangeRequest(opArgs, flags) } };
  return { request: { case: "requestDeleteRange", value: deleteRequest(opArgs, flags) } };
}

/** Reads lines until a blank one, parsing each; end of input first is `Error: EOF` (exit 3). */
async function readSection<T>(stdin: Stdin, parse: (line: string) => T | Promise<T>): Promise<T[]> {
  const items: T[] = [];
  for (;;) {
    const line = await stdin.readLine();
    if (line === null) throw invalidInput("EOF");
    const trimmed = line.trim();
    if (trimmed === "") return items;
    items.push(await parse(trimmed));
  }
}

/**
 * Reads a whole transaction from stdin; with `interactive` prints etcdctl's section prompts on
 * stdout before each section.
 */
export async function readTxn(stdin: Stdin, out: Output, interactive: boolean): Promise<TxnInit> {
  const prompt = async (text: string) => {
    if (!interactive) return;
    out.println(text);
    await out.flush();
  };
  await prompt("compares:");
  const compare = await readSection(stdin, parseCompare);
  await prompt("success requests (get, put, del):");
  const success = await readSection(stdin, parseOperation);
  await prompt("failure requests (get, put, del):");
  const failure = await readSection(stdin, parseOperation);
  return { compare, success, failure };
}
