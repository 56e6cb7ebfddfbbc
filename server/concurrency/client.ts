/**
 * The member as the Lock and Election services see it: an in-process client, like the
 * `v3client.New(s)` etcd 3.4 hands to its v3lock and v3election servers
 * (etcdserver/api/v3client/v3client.go). KV requests are checked as the KV service checks them
 * (server/api/kv-validate.ts) before they reach the member.
 *
 * Requests carry the caller's credentials (`ai`), so permissions apply per caller, as etcd's
 * lock and election servers hand the caller's context to the in-process client.
 *
 * Errors are what clientv3 makes of them: a member error keeps its message but loses its gRPC
 * code (clientv3 turns it into an rpctypes.EtcdError, which grpc-go sends as Unknown), e.g.
 * Unknown `etcdserver: requested lease not found` for a Lock with an unknown lease. Checked
 * against etcd 3.4.23 (server/e2e/lock-election.test.ts).
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  DeleteRangeRequestSchema,
  LeaseGrantRequestSchema,
  TxnRequestSchema,
  WatchCreateRequestSchema,
  type DeleteRangeResponse,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
  type WatchResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { checkDeleteRequest, checkRangeRequest, checkTxnRequest } from "../api/kv-validate.ts";
import type { WatchStream } from "../mvcc/watch/stream.ts";
import type { AuthInfo } from "../auth/store.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { byCreateRequest, type KvClient } from "./kv-client.ts";

/**
 * The `--max-txn-ops` the recipes' txns are checked against: they carry one compare and at most
 * two operations per branch, so any server limit from 2 up (etcd's default 128) lets them pass.
 */
const CLIENT_TXN_OPS = 2;

/** `e` as clientv3 hands it on: Canceled stays, any other error becomes Unknown with its message. */
export function clientError(e: unknown): ConnectError {
  const err = ConnectError.from(e);
  if (err.code === Code.Canceled || err.code === Code.Unknown) return err;
  return new ConnectError(err.rawMessage, Code.Unknown);
}

/** Runs `f`, turning its failure into {@link clientError}. */
async function asClient<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw clientError(e);
  }
}

/** The in-process client; see the module doc. */
export class MemberClient implements KvClient {
  /** `ai`: who calls (server/api/auth-context.ts requestAuth); undefined without credentials. */
  constructor(
    private readonly api: EtcdServerApi,
    private readonly ai?: AuthInfo,
  ) {}

  /**
   * The key of `prefix` with the lowest (`first`) or highest create revision at most
   * `maxCreateRevision` (0: any), as clientv3's WithFirstCreate / WithLastCreate +
   * WithMaxCreateRev ask for it; linearizable.
   */
  byCreate(prefix: Uint8Array, order: "first" | "last", maxCreateRevision = 0n): Promise<RangeResponse> {
    const req = byCreateRequest(prefix, order, maxCreateRevision);
    return asClient(async () => {
      checkRangeRequest(req);
      return this.api.range(req, this.ai);
    });
  }

  /** A Txn through the log, checked as the KV service checks it. */
  txn(init: MessageInitShape<typeof TxnRequestSchema>): Promise<TxnResponse> {
    const req: TxnRequest = create(TxnRequestSchema, init);
    return asClient(async () => {
      checkTxnRequest(req, CLIENT_TXN_OPS);
      return this.api.txn(req, this.ai);
    });
  }

  /** Deletes the single key `key`. */
  delete(key: Uint8Array): Promise<DeleteRangeResponse> {
    const req = create(DeleteRangeRequestSchema, { key });
    return asClient(async () => {
      checkDeleteRequest(req);
      return this.api.deleteRange(req, this.ai);
    });
  }

  /** Grants a lease of `ttlSeconds` with an ID the member picks; resolves with the ID. */
  grant(ttlSeconds: bigint): Promise<bigint> {
    return asClient(async () => (await this.api.leaseGrant(create(LeaseGrantRequestSchema, { TTL: ttlSeconds }), this.ai)).ID);
  }

  /**
   * Opens one watcher on `key` (with `rangeEnd`, a range) from `startRevision` and returns its
   * responses (the `created` one skipped) until the watcher ends, the member stops or `signal`
   * aborts. The watch stream is closed when the iteration stops.
   */
  async *watch(key: Uint8Array, rangeEnd: Uint8Array, startRevision: bigint, signal: AbortSignal): AsyncGenerator<WatchResponse> {
    let stream: WatchStream;
    try {
      // READ on the watched range, as the Watch service checks a create (server/api/watch.ts).
      this.api.auth?.store.isRangePermitted(this.ai, key, rangeEnd);
      stream = this.api.openWatchStream();
    } catch (e) {
      throw clientError(e);
    }
    try {
      stream.create(create(WatchCreateRequestSchema, { key, rangeEnd, startRevision }));
      for (;;) {
        const r = await stream.next(signal);
        if (!r) return;
        if (r.created && !r.canceled) continue;
        yield r;
        if (r.canceled) return;
      }
    } finally {
      stream.close();
    }
  }
}
