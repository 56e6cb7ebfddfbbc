/**
 * The cluster page: members with their role (leader, follower, learner), Raft term and index,
 * db size and in-use size (Maintenance.Status of each member through its first client URL; the
 * member serving the page through its own origin), alarms; for root: add a learner, promote or
 * remove one, move the leadership, compact and defragment, each after a confirmation that says
 * what it will do.
 */
import { AlarmRequest_AlarmAction, AlarmType, type Member, type StatusResponse } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { api, describeError, maintenanceAt } from "./client.ts";
import { confirmAction, h, replace } from "./dom.ts";
import { hexId, say, sizeText, table, type App, type Page } from "./app.ts";

/** How often the page is read again, ms. */
const CLUSTER_REFRESH_MS = 3000;

/** Status of one member: through this page's origin when it is the member serving the page. */
async function statusOf(m: Member, self: bigint): Promise<StatusResponse> {
  if (m.ID === self) return api.maintenance.status({});
  const url = m.clientURLs[0];
  if (!url) throw new Error("no client URL (not started yet?)");
  return maintenanceAt(url).status({}, { timeoutMs: 2000 });
}

export const clusterPage: Page = (root, app) => {
  const admin = app.perms.admin;
  const members = h("div", { id: "members" });
  const alarms = h("div", { id: "alarms" });
  const ops = h("section", { "aria-label": "operations" });
  root.append(h("h1", {}, "Cluster"), members, h("h2", {}, "Alarms"), alarms, ops);
  let alive = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let leaderUrl: string | undefined;
  let selfId = 0n;
  let revision = 0n;

  const act = async (title: string, text: string, button: string, what: string, fn: () => Promise<unknown>) => {
    if (!(await confirmAction(title, text, button))) return;
    try {
      await fn();
      app.note(`${what}: done`);
    } catch (e) {
      app.fail(what, e);
    }
    void refresh();
  };

  const refresh = async () => {
    clearTimeout(timer);
    try {
      const own = await api.maintenance.status({});
      selfId = own.header!.memberId;
      revision = own.header!.revision;
      const list = (await api.cluster.memberList({})).members;
      const statuses = await Promise.all(list.map((m) => statusOf(m, selfId).then((s) => ({ s }), (e: unknown) => ({ e }))));
      if (!alive) return;
      const leader = own.leader;
      leaderUrl = list.find((m) => m.ID === leader)?.clientURLs[0];
      const rows = list.map((m, i) => {
        const st = statuses[i]!;
        const role = m.isLearner ? "learner" : m.ID === leader ? "leader" : "follower";
        const s = "s" in st ? st.s : undefined;
        const actions = h("div", { class: "row" });
        if (admin) {
          if (m.isLearner) {
            actions.append(h("button", { onclick: () => act(`Promote ${m.name || hexId(m.ID)}?`, "Makes the learner a voting member. It must have caught up with the leader's log first (the server refuses otherwise).", "Promote", `promoting ${hexId(m.ID)}`, () => api.cluster.memberPromote({ ID: m.ID })) }, "Promote"));
          } else if (m.ID !== leader) {
            actions.append(h("button", { onclick: () => act(`Move the leadership to ${m.name || hexId(m.ID)}?`, "The current leader hands over to this member; writes pause for an election's time.", "Move leader", `moving the leadership to ${hexId(m.ID)}`, () => (leaderUrl ? maintenanceAt(leaderUrl) : api.maintenance).moveLeader({ targetID: m.ID })) }, "Make leader"));
          }
          actions.append(h("button", { class: "danger", onclick: () => act(`Remove ${m.name || hexId(m.ID)}?`, `Removes member ${hexId(m.ID)} from the cluster; it stops serving. With strict reconfig check the server refuses a removal that would lose the quorum.`, "Remove", `removing ${hexId(m.ID)}`, () => api.cluster.memberRemove({ ID: m.ID })) }, "Remove"));
        }
        return [
          h("span", { class: `role ${role}` }, role),
          m.name || "(unstarted)",
          hexId(m.ID),
          s ? String(s.raftTerm) : "—",
          s ? String(s.raftIndex) : "—",
          s ? sizeText(s.dbSize) : "—",
          s ? sizeText(s.dbSizeInUse) : "—",
          s ? `${s.version}${s.errors.length ? " · " + s.errors.join("; ") : ""}` : `unreachable: ${"e" in st ? describeError(st.e) : ""}`,
          m.peerURLs.join(", "),
          m.clientURLs.join(", "),
          actions,
        ];
      });
      replace(members, table(["role", "name", "ID", "term", "index", "db size", "in use", "version / status", "peer URLs", "client URLs", ""], rows, { id: "member-table" }));
      const a = await api.maintenance.alarm({ action: AlarmRequest_AlarmAction.GET });
      if (!alive) return;
      if (a.alarms.length === 0) say(alarms, "No alarms.");
      else {
        replace(alarms, table(["member", "alarm"], a.alarms.map((x) => [hexId(x.memberID), AlarmType[x.alarm] ?? String(x.alarm)])));
        if (admin) alarms.append(h("button", { onclick: () => act("Disarm every alarm?", "Clears the alarms; a NOSPACE alarm comes back if the database is still over its quota (compact and defragment first).", "Disarm", "disarming alarms", async () => { for (const x of a.alarms) await api.maintenance.alarm({ action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: x.memberID, alarm: x.alarm }); }) }, "Disarm alarms"));
      }
    } catch (e) {
      app.fail("reading the cluster", e);
    }
    if (alive) timer = setTimeout(() => void refresh(), CLUSTER_REFRESH_MS);
  };

  if (admin) {
    const peer = h("input", { id: "learner-peer", placeholder: "peer URL, scheme://host:port", "aria-label": "peer URL of the new learner" });
    const compactRev = h("input", { id: "compact-rev", inputmode: "numeric", placeholder: "revision (default: current)", "aria-label": "compact up to revision" });
    ops.append(
      h("h2", {}, "Operations"),
      h("form", { class: "row", onsubmit: (e) => {
        e.preventDefault();
        const url = peer.value.trim();
        void act("Add a learner?", `Adds a non-voting member with peer URL ${url}. Start it with --initial-cluster-state=existing; promote it once it has caught up.`, "Add learner", `adding learner ${url}`, () => api.cluster.memberAdd({ peerURLs: [url], isLearner: true }));
      } }, h("label", { class: "field inline" }, h("span", {}, "Peer URL"), peer), h("button", { type: "submit" }, "Add learner")),
      h("form", { class: "row", onsubmit: (e) => {
        e.preventDefault();
        const rev = compactRev.value.trim() ? BigInt(compactRev.value.trim()) : revision;
        void act(`Compact up to revision ${rev}?`, `Drops every key version older than revision ${rev} on all members: history and watches before it are gone. The space is reused but the file does not shrink until defragmented.`, "Compact", `compacting to ${rev}`, () => api.kv.compact({ revision: rev, physical: true }));
      } }, h("label", { class: "field inline" }, h("span", {}, "Compact to"), compactRev), h("button", { type: "submit" }, "Compact")),
      h("div", { class: "row" }, h("button", { onclick: () => act("Defragment this member?", "Rewrites this member's database file to give free space back to the file system. The member does not answer while it runs (seconds for large databases); do one member at a time.", "Defragment", "defragmenting", () => api.maintenance.defragment({})) }, "Defragment this member"), h("span", { class: "muted" }, "Run it on each member in turn from that member's console.")),
    );
  }

  say(members, "loading…");
  void refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
};
