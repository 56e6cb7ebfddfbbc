/**
 * etcdserverpb.Cluster: MemberList from the member's membership; MemberAdd, MemberRemove,
 * MemberUpdate and MemberPromote answer Unimplemented until membership changes go through
 * Raft. Source: etcdserver/api/v3rpc/member.go.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { Cluster } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { unimplemented } from "./unimplemented.ts";

/** The Cluster service implementation over `api`. */
export function clusterService(api: EtcdServerApi): ServiceImpl<typeof Cluster> {
  return {
    memberList: () => ({ header: api.header(), members: api.members() }),
    memberAdd: unimplemented(Cluster, "MemberAdd"),
    memberRemove: unimplemented(Cluster, "MemberRemove"),
    memberUpdate: unimplemented(Cluster, "MemberUpdate"),
    memberPromote: unimplemented(Cluster, "MemberPromote"),
  };
}
