/**
 * The `request` and `response` texts of etcd 3.4's slow- and failed-apply log lines: an applied
 * entry printed as etcd's `InternalRaftStringer` prints it (etcdserverpb/raft_internal_stringer.go:
 * Go's compact text format, values replaced by `value_size`, passwords left out) and a response
 * as `size:<bytes of its protobuf encoding>`.
 */
import { create, createRegistry, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { compactText, textQuote } from "../../cli/go/proto-text.ts";
import {
  InternalRaftRequestSchema,
  RequestHeaderSchema,
  type InternalRaftRequest,
} from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import {
  file_etcdserverpb_rpc,
  CompareSchema,
  Compare_CompareResult,
  Compare_CompareTarget,
  RequestOpSchema,
  ResponseHeaderSchema,
  type Compare,
  type PutRequest,
  type RequestOp,
  type ResponseHeader,
  type TxnRequest,
  type TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/**
 * `req` as etcd logs an applied InternalRaftRequest, e.g.
 * `header:<ID:7587869163443262724 > put:<key:"foo" value_size:3 >`,
 * `header:<ID:... > txn:<compare:<...> success:<request_put:<...>> failure:<>>`, or for other
 * requests the whole message (`header:<ID:... > delete_range:<key:"foo" > `). The request ID is
 * in the header as in etcd (ours carries it in the top-level ID when the sender has no auth info).
 */
export function loggableRaftRequest(req: InternalRaftRequest): string {
  const headerMsg = req.header ?? create(RequestHeaderSchema, { ID: req.ID });
  const header = compactText(RequestHeaderSchema, headerMsg);
  if (req.leaseGrant) {
    return `header:<${header}> lease_grant:<ttl:${req.leaseGrant.TTL}-second id:${hex16(req.leaseGrant.ID)}>`;
  }
  if (req.leaseRevoke) return `header:<${header}> lease_revoke:<id:${hex16(req.leaseRevoke.ID)}>`;
  if (req.authenticate) {
    return `header:<${header}> authenticate:<name:${req.authenticate.name} simple_token:${req.authenticate.simpleToken}>`;
  }
  if (req.authUserAdd) return `header:<${header}> auth_user_add:<name:${req.authUserAdd.name}>`;
  if (req.authUserChangePassword) {
    return `header:<${header}> auth_user_change_password:<name:${req.authUserChangePassword.name}>`;
  }
  if (req.put) return `header:<${header}> put:<${loggablePut(req.put)}>`;
  if (req.txn) return `header:<${header}> txn:<${loggableTxn(req.txn)}>`;
  // Nothing to redact: the whole message, its ID inside the header as etcd's entries have it.
  const whole = create(InternalRaftRequestSchema, { ...req, ID: 0n, memberAttributes: undefined });
  whole.header = headerMsg;
  return compactText(InternalRaftRequestSchema, whole);
}

/** etcd's txnRequestStringer: `compare:<...> success:<...> failure:<...>`, values as sizes. */
export function loggableTxn(txn: TxnRequest): string {
  const compare = txn.compare.map(loggableCompare).join(" ");
  const success = txn.success.map(loggableOp).join(" ");
  const failure = txn.failure.map(loggableOp).join(" ");
  return `compare:<${compare}> success:<${success}> failure:<${failure}>`;
}

function loggableCompare(c: Compare): string {
  if (c.targetUnion.case !== "value") return compactText(CompareSchema, c);
  // loggableValueCompare: result, target, key, value_size, range_end (zero values left out).
  return textFields([
    ["result", c.result === 0 ? 0 : Compare_CompareResult[c.result]],
    ["target", c.target === 0 ? 0 : Compare_CompareTarget[c.target]],
    ["key", c.key],
    ["value_size", c.targetUnion.value.length],
    ["range_end", c.rangeEnd],
  ]);
}

function loggableOp(op: RequestOp): string {
  if (op.request.case === "requestPut") return `request_put:<${loggablePut(op.request.value)}>`;
  if (op.request.case === "requestTxn") return `request_txn:<${loggableTxn(op.request.value)}>`;
  return compactText(RequestOpSchema, op);
}

/** etcd's loggablePutRequest: key, value_size, lease, prev_kv, ignore_value, ignore_lease. */
function loggablePut(put: PutRequest): string {
  return textFields([
    ["key", put.key],
    ["value_size", put.value.length],
    ["lease", put.lease],
    ["prev_kv", put.prevKv],
    ["ignore_value", put.ignoreValue],
    ["ignore_lease", put.ignoreLease],
  ]);
}

/** `name:value ` per non-zero field, in the given order (the text format of etcd's fake loggable structs). */
function textFields(fields: [string, Uint8Array | number | bigint | boolean | string][]): string {
  let out = "";
  for (const [name, v] of fields) {
    if (v instanceof Uint8Array) {
      if (v.length > 0) out += `${name}:${textQuote(v)} `;
    } else if (v !== 0 && v !== 0n && v !== false) out += `${name}:${v} `;
  }
  return out;
}

function hex16(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, "0");
}

const responses = createRegistry(file_etcdserverpb_rpc);

/**
 * `size:<n>` of an applied response as etcd's applier returns it, before the gRPC layer fills the
 * rest of its header: reads and writes carry the revision only (applierV3backend Range/Put/
 * DeleteRange/Txn/Compaction), lease and auth responses the whole header (newHeader). Empty for no response.
 */
export function loggableResponseSize(response: Message | undefined, full: ResponseHeader): string {
  if (!response) return "";
  const schema = responses.getMessage(response.$typeName) as DescMessage | undefined;
  if (!schema) return "";
  const revisionOnly = /\.(Range|Put|DeleteRange|Txn|Compaction)Response$/.test(response.$typeName);
  const header = revisionOnly ? create(ResponseHeaderSchema, { revision: full.revision }) : full;
  const withHeader = { ...response, header } as Message;
  return `size:${toBinary(schema, withHeader).length}`;
}

/** A read-only txn's response as etcd logs it: `responses:<range_response_count:N ...> size:N` (warnOfExpensiveReadOnlyTxnRequest). */
export function loggableReadOnlyTxnResponse(response: TxnResponse, full: ResponseHeader): string {
  const counts = response.responses.map((r) =>
    r.response.case === "responseRange" ? `range_response_count:${r.response.value.kvs.length}` : "range_response:nil",
  );
  return `responses:<${counts.join(" ")}> ${loggableResponseSize(response, full)}`;
}
