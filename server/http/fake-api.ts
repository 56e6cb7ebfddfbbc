/**
 * An in-memory stand-in for the member (EtcdServerApi) for listener and API tests: exact-key
 * range, put, delete, txn counting, fixed IDs. Not a KV store; just enough to see requests
 * arrive and responses go back. Not used by production code.
 */
import { create } from "@bufbuild/protobuf";
import {
  CompactionResponseSchema,
  DeleteRangeResponseSchema,
  LeaseLeasesResponseSchema,
  MemberSchema,
  PutResponseSchema,
  RangeResponseSchema,
  ResponseHeaderSchema,
  StatusResponseSchema,
  TxnResponseSchema,
  type CompactionRequest,
  type DeleteRangeRequest,
  type Member,
  type PutRequest,
  type RangeRequest,
  type ResponseHeader,
  type TxnRequest,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { KeyValueSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { Errors } from "../errors.ts";
import type { EtcdServerApi } from "../node/types.ts";

/** The fake, with knobs for tests. */
export interface FakeApi extends EtcdServerApi {
  /** Values by key (latin1 of the key bytes). */
  readonly data: Map<string, Uint8Array>;
  /** Txn requests received, in order. */
  readonly txns: TxnRequest[];
  /** Leader reported by status(); 0n means "no leader". */
  leader: bigint;
  /** If set, range() throws this (to test unexpected errors). */
  rangeThrows?: unknown;
}

const key = (b: Uint8Array) => Buffer.from(b).toString("latin1");

/** A fresh fake member: memberId 0x8e9e05c52164694d, clusterId 0xcdf818194e3a8c32; rejects puts above `maxRequestBytes` like the node. */
export function createFakeApi(maxRequestBytes = 1572864): FakeApi {
  let revision = 1n;
  const memberId = 0x8e9e05c52164694dn;
  const clusterId = 0xcdf818194e3a8c32n;
  const header = (): ResponseHeader => create(ResponseHeaderSchema, { clusterId, memberId, revision, raftTerm: 2n });
  const fake: FakeApi = {
    clusterId,
    memberId,
    data: new Map(),
    txns: [],
    leader: memberId,
    header,
    async range(req: RangeRequest) {
      if (fake.rangeThrows !== undefined) throw fake.rangeThrows;
      const v = fake.data.get(key(req.key));
      const kvs = v === undefined ? [] : [create(KeyValueSchema, { key: req.key, value: v, createRevision: 2n, modRevision: revision, version: 1n })];
      return create(RangeResponseSchema, { header: header(), kvs, count: BigInt(kvs.length) });
    },
    async put(req: PutRequest) {
      if (req.key.length + req.value.length > maxRequestBytes) throw Errors.RequestTooLarge();
      fake.data.set(key(req.key), req.value);
      revision++;
      return create(PutResponseSchema, { header: header() });
    },
    async deleteRange(req: DeleteRangeRequest) {
      const deleted = fake.data.delete(key(req.key)) ? 1n : 0n;
      if (deleted) revision++;
      return create(DeleteRangeResponseSchema, { header: header(), deleted });
    },
    async txn(req: TxnRequest) {
      fake.txns.push(req);
      return create(TxnResponseSchema, { header: header(), succeeded: true });
    },
    async compact(_req: CompactionRequest) {
      return create(CompactionResponseSchema, { header: header() });
    },
    // No leases: every lease call answers as for an unknown lease.
    async leaseGrant() {
      throw Errors.NotCapable();
    },
    async leaseRevoke() {
      throw Errors.LeaseNotFound();
    },
    async leaseRenew() {
      throw Errors.LeaseNotFound();
    },
    async leaseTimeToLive() {
      throw Errors.LeaseNotFound();
    },
    async leaseLeases() {
      return create(LeaseLeasesResponseSchema, { header: header() });
    },
    members(): Member[] {
      return [create(MemberSchema, { ID: memberId, name: "fake", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"] })];
    },
    status() {
      return create(StatusResponseSchema, { header: header(), version: "3.4.23", dbSize: 4096n, leader: fake.leader, raftIndex: revision, raftTerm: 2n, raftAppliedIndex: revision, dbSizeInUse: 4096n });
    },
    // No watch hub: the Watch service is not served by the fake.
    openWatchStream(): never {
      throw Errors.NotCapable();
    },
  };
  return fake;
}
