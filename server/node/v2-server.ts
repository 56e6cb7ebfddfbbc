/**
 * The member's side of the v2 keys API (etcd's etcdserver/v2_server.go and the SYNC ticker of
 * server.go): the v2 store loaded from the backend, requests handled as etcd's `Do` does (a
 * GET or a watch is answered from the local store; PUT, POST, DELETE and a quorum GET go
 * through the Raft log and are answered once applied here), and TTL expiry decided by the
 * leader: every {@link SYNC_INTERVAL_MS} while the store holds keys with a TTL, the leader
 * proposes a SYNC carrying its wall-clock time, which every member applies alike.
 */
import type { Database } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import { V2RequestSchema, type InternalRaftRequest, type V2Request } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { msToNanos, type V2Outcome } from "../v2store/apply.ts";
import { V2Error } from "../v2store/errors.ts";
import type { V2Event } from "../v2store/event.ts";
import { V2Store } from "../v2store/store.ts";
import { V2Tables } from "../v2store/tables.ts";
import type { V2Watcher } from "../v2store/watcher-hub.ts";
import type { AppliedOutcome } from "./applier.ts";
import type { EnvTimer, MemberEnv } from "./env.ts";
import type { Cancellation } from "./types.ts";

/** Period of the leader's SYNC proposals, ms (etcd's SyncTicker: 500 ms). */
export const SYNC_INTERVAL_MS = 500;

/** A v2 request as the HTTP layer builds it (etcd's etcdserverpb.Request fields). */
export type V2RequestInit = Partial<Omit<V2Request, "$typeName" | "$unknown">>;

/** What `do` answers: an event or a watcher, and the Raft index and term (X-Raft-Index, X-Raft-Term). */
export interface V2Response {
  event?: V2Event;
  watcher?: V2Watcher;
  raftIndex: number;
  raftTerm: number;
}

/** What the v2 server needs from its member. */
export interface V2ServerDeps {
  db: Database;
  env: MemberEnv;
  /** Proposes an entry and resolves with its outcome once applied here (EtcdNode.proposeEntry). */
  propose(fields: Partial<InternalRaftRequest>, signal?: Cancellation): Promise<AppliedOutcome>;
  isLeader(): boolean;
  /** Committed index and current term. */
  raftIndexTerm(): { index: number; term: number };
  /** Logs a SYNC that failed (e.g. lost leadership meanwhile). */
  warn(msg: string, fields: Record<string, unknown>): void;
}

/** The v2 store of a member and its request path. */
export class V2Server {
  readonly store: V2Store;
  private readonly tables: V2Tables;
  private readonly syncTimer: EnvTimer;
  private syncing = false;

  constructor(private readonly deps: V2ServerDeps) {
    this.tables = new V2Tables(deps.db);
    this.store = new V2Store(() => deps.env.now(), this.tables);
    this.store.load(this.tables.load(), true);
    this.syncTimer = deps.env.setInterval(() => this.sync(), SYNC_INTERVAL_MS);
  }

  /** Rebuilds the store and its event history from the tables after a snapshot was installed. */
  reload(): void {
    this.store.load(this.tables.load());
  }

  stop(): void {
    this.syncTimer.cancel();
  }

  /** etcd's sync: one SYNC at a time, only on the leader and only while keys have a TTL. */
  private sync(): void {
    if (this.syncing || !this.deps.isLeader() || !this.store.hasTtlKeys()) return;
    this.syncing = true;
    this.deps
      .propose({ v2: create(V2RequestSchema, { Method: "SYNC", Time: msToNanos(this.deps.env.now()) }) })
      .catch((e) => this.deps.warn("failed to sync the v2 store", { error: String(e) }))
      .finally(() => (this.syncing = false));
  }

  /**
   * Serves a v2 keys request (etcd's EtcdServer.Do): GET (Quorum: as QGET through the log),
   * GET with Wait (a watcher), HEAD, PUT, POST, DELETE.
   * @throws V2Error of the store; the member's ConnectError (timeout, stopped...) for a proposal
   */
  async do(init: V2RequestInit, signal?: Cancellation): Promise<V2Response> {
    const req = create(V2RequestSchema, init);
    if (req.Method === "GET" && req.Quorum) req.Method = "QGET";
    let event: V2Event | undefined;
    let watcher: V2Watcher | undefined;
    switch (req.Method) {
      case "GET":
      case "HEAD":
        if (req.Wait && req.Method === "GET") watcher = this.store.watch(req.Path, req.Recursive, req.Stream, Number(req.Since));
        else event = this.store.get(req.Path, req.Recursive, req.Sorted);
        break;
      default: {
        const outcome: V2Outcome = (await this.deps.propose({ v2: req }, signal)).v2;
        if (outcome instanceof V2Error) throw outcome;
        event = outcome;
      }
    }
    const { index, term } = this.deps.raftIndexTerm();
    return { event, watcher, raftIndex: index, raftTerm: term };
  }
}
