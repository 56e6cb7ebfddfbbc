import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { Errors } from "../errors.ts";
import { ConfChangeType, type ConfChange } from "../raft/types.ts";
import { MembersTable, type MemberRecord } from "../storage/members.ts";
import { createSchema } from "../storage/schema.ts";
import { applyMemberConfChange, encodeMemberContext, validateConfChange } from "./apply.ts";
import { assignJoinId, parseMembersJson } from "./join.ts";
import { servePromote } from "./promote-http.ts";
import { HEALTH_INTERVAL_MS, isLearnerReady, mayAddMember, mayPromoteMember, mayRemoveMember, type ReconfigView } from "./reconfig-check.ts";

const member = (id: bigint, over: Partial<MemberRecord> = {}): MemberRecord => ({
  id,
  name: `m${id}`,
  peerURLs: [`http://10.0.0.${id}:2380`],
  clientURLs: [],
  isLearner: false,
  ...over,
});

function table(...members: MemberRecord[]): MembersTable {
  const db = new Database(":memory:");
  createSchema(db);
  const t = new MembersTable(db);
  for (const m of members) t.put(m);
  return t;
}

const cc = (type: ConfChangeType, m: MemberRecord, isPromote = false): ConfChange => ({
  type,
  nodeId: m.id,
  context: encodeMemberContext(m, isPromote),
  id: 1n,
});

describe("validateConfChange (etcd's ValidateConfigurationChange)", () => {
  test("add: known ID, peer URL in use, one learner at most", () => {
    const t = table(member(1n), member(2n));
    expect(validateConfChange(t, cc(ConfChangeType.ConfChangeAddNode, member(2n, { peerURLs: ["http://x:1"] })))?.rawMessage).toBe(
      Errors.MemberExist().rawMessage,
    );
    expect(validateConfChange(t, cc(ConfChangeType.ConfChangeAddNode, member(3n, { peerURLs: ["http://10.0.0.1:2380"] })))?.rawMessage).toBe(
      Errors.PeerURLExist().rawMessage,
    );
    const learner = member(3n, { isLearner: true });
    expect(validateConfChange(t, cc(ConfChangeType.ConfChangeAddLearnerNode, learner))).toBeUndefined();
    applyMemberConfChange(t, cc(ConfChangeType.ConfChangeAddLearnerNode, learner));
    expect(validateConfChange(t, cc(ConfChangeType.ConfChangeAddLearnerNode, member(4n, { isLearner: true })))?.rawMessage).toBe(
      Errors.TooManyLearners().rawMessage,
    );
    expect(validateConfChange(t, cc(ConfChangeType.ConfChangeAddNode, member(4n)))).toBeUndefined();
  });

  test("promote, remove, update; a removed ID never comes back", () => {
    const t = table(member(1n), member(2n, { isLearner: true }));
    expect(validateConfChange(t, cc(ConfChangeType.ConfChangeAddNode, member(1n), true))?.rawMessage).toBe(Errors.MemberNotLearner().rawMessage);
    expect(validateConfChange(t, cc(ConfChangeType.ConfChangeAddNode, member(9n), true))?.rawMessage).toBe(Errors.MemberNotFound().rawMessage);
    const promote = cc(ConfChangeType.ConfChangeAddNode, member(2n), true);
    expect(validateConfChange(t, promote)).toBeUndefined();
    applyMemberConfChange(t, promote);
    expect(t.get(2n)?.isLearner).toBe(false);
    expect(t.get(2n)?.name).toBe("m2");

    const update = cc(ConfChangeType.ConfChangeUpdateNode, member(2n, { peerURLs: ["http://10.0.0.1:2380"] }));
    expect(validateConfChange(t, update)?.rawMessage).toBe(Errors.PeerURLExist().rawMessage);
    const ownUrls = cc(ConfChangeType.ConfChangeUpdateNode, member(2n, { peerURLs: ["http://10.0.0.2:2380", "http://b:1"] }));
    expect(validateConfChange(t, ownUrls)).toBeUndefined();
    applyMemberConfChange(t, ownUrls);
    expect(t.get(2n)?.peerURLs).toEqual(["http://10.0.0.2:2380", "http://b:1"]);

    const remove = cc(ConfChangeType.ConfChangeRemoveNode, member(2n));
    expect(validateConfChange(t, remove)).toBeUndefined();
    applyMemberConfChange(t, remove);
    expect(t.get(2n)).toBeUndefined();
    expect(t.isRemoved(2n)).toBe(true);
    for (const type of [ConfChangeType.ConfChangeRemoveNode, ConfChangeType.ConfChangeAddNode, ConfChangeType.ConfChangeUpdateNode]) {
      expect(validateConfChange(t, cc(type, member(2n, { peerURLs: ["http://new:1"] })))?.rawMessage).toBe(Errors.MemberNotFound().rawMessage);
    }
  });
});

describe("strict reconfiguration checks (etcd 3.4 --strict-reconfig-check)", () => {
  const now = 1_000_000;
  const view = (members: MemberRecord[], active: Record<string, number | undefined>): ReconfigView => ({
    self: 1n,
    members,
    activeSince: (id) => active[String(id)],
    now,
  });
  const longAgo = now - HEALTH_INTERVAL_MS - 1;
  const three = [member(1n), member(2n), member(3n)];

  test("add: refused until every voter has been connected for the health interval (etcd: unhealthy cluster)", () => {
    expect(mayAddMember(view(three, { 2: longAgo, 3: longAgo }), false)).toBeUndefined();
    expect(mayAddMember(view(three, { 2: longAgo, 3: now - 1000 }), true)?.rawMessage).toBe(Errors.Unhealthy().rawMessage);
    expect(mayAddMember(view(three, { 2: longAgo }), false)?.rawMessage).toBe(Errors.Unhealthy().rawMessage);
    const unstarted = [member(1n), member(2n, { name: "" }), member(3n, { name: "" })];
    expect(mayAddMember(view(unstarted, { 2: longAgo, 3: longAgo }), false)?.rawMessage).toBe(Errors.MemberNotEnoughStarted().rawMessage);
    expect(mayAddMember(view(unstarted, { 2: longAgo, 3: longAgo }), true)).toBeUndefined();
    // One started member may get a second (restoring from a backup).
    expect(mayAddMember(view([member(1n)], {}), false)).toBeUndefined();
  });

  test("remove: a down member or a learner always; an up voter only if the rest keep a quorum", () => {
    const four = [...three, member(4n, { isLearner: true })];
    const oneDown = { 2: longAgo };
    expect(mayRemoveMember(view(four, oneDown), 3n)).toBeUndefined();
    expect(mayRemoveMember(view(four, oneDown), 4n)).toBeUndefined();
    expect(mayRemoveMember(view(four, oneDown), 2n)?.rawMessage).toBe(Errors.Unhealthy().rawMessage);
    expect(mayRemoveMember(view(four, { 2: longAgo, 3: longAgo }), 2n)).toBeUndefined();
    const unstarted = [member(1n), member(2n), member(3n, { name: "" })];
    expect(mayRemoveMember(view(unstarted, { 2: longAgo, 3: longAgo }), 2n)?.rawMessage).toBe(Errors.MemberNotEnoughStarted().rawMessage);
  });

  test("promote: the learner counts as a started voter; readiness is 90% of the leader's match", () => {
    expect(mayPromoteMember(view(three, {}))).toBeUndefined();
    expect(mayPromoteMember(view([member(1n), member(2n, { name: "" }), member(3n, { name: "" })], {}))?.rawMessage).toBe(
      Errors.MemberNotEnoughStarted().rawMessage,
    );
    const progress = new Map([
      [1n, { match: 100 }],
      [4n, { match: 89 }],
    ]);
    expect(isLearnerReady(undefined, 1n, 4n)?.rawMessage).toBe(Errors.NotLeader().rawMessage);
    expect(isLearnerReady(progress, 1n, 4n)?.rawMessage).toBe(Errors.LearnerNotReady().rawMessage);
    progress.set(4n, { match: 90 });
    expect(isLearnerReady(progress, 1n, 4n)).toBeUndefined();
    expect(isLearnerReady(progress, 1n, 5n)).toBeUndefined();
  });
});

describe("joining an existing cluster", () => {
  test("GET /members as etcd writes it: uint64 IDs stay exact", () => {
    const body =
      '[{"id":1435157788349988869,"peerURLs":["http://127.0.0.1:41002"],"name":"n1","clientURLs":["http://127.0.0.1:41001"]},' +
      '{"id":15750134576127480530,"peerURLs":["http://127.0.0.1:42008"],"isLearner":true}]\n';
    expect(parseMembersJson(body)).toEqual([
      { id: 1435157788349988869n, name: "n1", peerURLs: ["http://127.0.0.1:41002"], clientURLs: ["http://127.0.0.1:41001"], isLearner: false },
      { id: 15750134576127480530n, name: "", peerURLs: ["http://127.0.0.1:42008"], clientURLs: [], isLearner: true },
    ]);
  });

  test("the ID comes from the member with our peer URLs; --initial-cluster must list the same members", () => {
    const existing = [member(1n), member(7n, { name: "", peerURLs: ["http://10.0.0.7:2380"] })];
    const ic = "m1=http://10.0.0.1:2380,new=http://10.0.0.7:2380";
    expect(assignJoinId(ic, "new", existing)).toBe(7n);
    expect(() => assignJoinId("new=http://10.0.0.7:2380", "new", existing)).toThrow("member count is unequal");
    expect(() => assignJoinId("m1=http://10.0.0.9:2380,new=http://10.0.0.7:2380", "new", existing)).toThrow(
      "PeerURLs: no match found for existing member (1, [http://10.0.0.1:2380])",
    );
    expect(() => assignJoinId(ic, "other", existing)).toThrow('couldn\'t find local name "other"');
  });
});

describe("forwarded promote (POST /members/promote/<id>)", () => {
  test("statuses and bodies as etcd's peer handler", async () => {
    const answer = async (idText: string, fail?: () => Error) => {
      const res = await servePromote(idText, async () => {
        if (fail) throw fail();
        return [member(1n)];
      });
      return [res.status, await res.text()];
    };
    expect(await answer("1")).toEqual([200, '[{"id":1,"peerURLs":["http://10.0.0.1:2380"],"name":"m1"}]\n']);
    expect(await answer("abc")).toEqual([404, "member abc not found in cluster\n"]);
    expect(await answer("2", Errors.MemberNotFound)).toEqual([404, "membership: ID not found\n"]);
    expect(await answer("2", Errors.MemberNotLearner)).toEqual([412, "membership: can only promote a learner member\n"]);
    expect(await answer("2", Errors.LearnerNotReady)).toEqual([412, "etcdserver: can only promote a learner member which is in sync with leader\n"]);
  });
});
