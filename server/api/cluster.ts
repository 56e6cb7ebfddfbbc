/**
 * etcdserverpb.Cluster over the member's membership administration: MemberAdd (peer URLs
 * validated like etcd's types.NewURLs, else MemberBadURLs), MemberRemove, MemberUpdate,
 * MemberPromote and MemberList. Responses carry etcd's cluster header: cluster ID, member ID
 * and Raft term, no revision. Members without administration (test fakes) answer Unimplemented
 * for the changes. With auth enabled, changes are for root only (etcd's
 * checkMembershipOperationPermission: UserEmpty, UserNotFound, PermissionDenied); MemberList is
 * open to all. Source: etcdserver/api/v3rpc/member.go, etcdserver/server.go.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { Cluster, ResponseHeaderSchema, type ResponseHeader } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { parseUrls } from "../config.ts";
import { Errors } from "../errors.ts";
import type { ClusterAdminApi, EtcdServerApi } from "../node/types.ts";
import { requestAuth } from "./auth-context.ts";
import { unimplemented } from "./unimplemented.ts";

/** etcd's ClusterServer header: cluster and member ID and Raft term, revision left 0. */
function clusterHeader(api: EtcdServerApi): ResponseHeader {
  const h = api.header();
  return create(ResponseHeaderSchema, { clusterId: h.clusterId, memberId: h.memberId, raftTerm: h.raftTerm });
}

/**
 * Peer URLs of MemberAdd as etcd's types.NewURLs reads them (http/https/unix/unixs,
 * `host:port`, no path; sorted). Errors: MemberBadURLs (InvalidArgument).
 */
function peerUrls(urls: string[]): string[] {
  // types.NewURLs refuses an empty list ("no valid URLs given").
  if (urls.length === 0) throw Errors.MemberBadURLs();
  try {
    return parseUrls(urls.join(","));
  } catch {
    throw Errors.MemberBadURLs();
  }
}

/** The Cluster service implementation over `api`. */
export function clusterService(api: EtcdServerApi): ServiceImpl<typeof Cluster> {
  const admin = async (method: string, ctx: HandlerContext): Promise<ClusterAdminApi> => {
    api.rejectIfLearner?.();
    if (!api.cluster) unimplemented(Cluster, method)();
    api.auth?.checkAdmin(await requestAuth(api, ctx));
    return api.cluster!;
  };
  return {
    memberList: () => ({ members: api.members(), header: clusterHeader(api) }),
    memberAdd: async (req, ctx) => {
      const cluster = await admin("MemberAdd", ctx);
      const { member, members } = await cluster.add(peerUrls(req.peerURLs), req.isLearner);
      return { header: clusterHeader(api), member, members };
    },
    memberRemove: async (req, ctx) => {
      const { members } = await (await admin("MemberRemove", ctx)).remove(req.ID);
      return { header: clusterHeader(api), members };
    },
    memberUpdate: async (req, ctx) => {
      // etcd stores the URLs as given (no validation server-side; etcdctl checks them).
      const { members } = await (await admin("MemberUpdate", ctx)).update(req.ID, req.peerURLs);
      return { header: clusterHeader(api), members };
    },
    memberPromote: async (req, ctx) => {
      const { members } = await (await admin("MemberPromote", ctx)).promote(req.ID);
      return { header: clusterHeader(api), members };
    },
  };
}
