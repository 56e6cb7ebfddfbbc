/**
 * Auth: whether auth is on, who is logged in and what they may do (loadPermissions), the login
 * form (Authenticate; the token is then sent with every call), and, for root, the users and
 * roles with their permissions.
 */
import { Permission_Type } from "../../../proto/gen/authpb/auth_pb.ts";
import { api, dec, describeError, needsLogin, session } from "./client.ts";
import { h, replace } from "./dom.ts";
import { say, table, type App, type Page, type Permissions } from "./app.ts";
import type { KeyRange } from "../permissions.ts";

/**
 * Finds out what the user may do: a KV call without a token that asks for one means auth is on;
 * then the user's roles (UserGet on themselves) decide `admin` (the `root` role), and their
 * permissions (RoleGet, which etcd allows for a role the user has) the writable key ranges. A
 * stale token is dropped.
 */
export async function loadPermissions(app: Pick<App, "fail">): Promise<Permissions> {
  const user = session.user;
  try {
    await api.kv.range({ key: new Uint8Array([0]), countOnly: true, limit: 1n });
  } catch (e) {
    if (needsLogin(e)) {
      if (session.token) session.clear();
      return { authEnabled: true, user: null, admin: false, writable: [] };
    }
  }
  if (!user) {
    // Without a token, a call that works means auth is off (or the call needs no auth).
    return { authEnabled: false, user: null, admin: true, writable: [] };
  }
  try {
    const u = await api.auth.userGet({ name: user });
    if (u.roles.includes("root")) return { authEnabled: true, user, admin: true, writable: [] };
    const writable: KeyRange[] = [];
    for (const role of u.roles) {
      for (const p of (await api.auth.roleGet({ role })).perm) {
        if (p.permType !== Permission_Type.READ) writable.push({ key: p.key, end: p.rangeEnd });
      }
    }
    return { authEnabled: true, user, admin: false, writable };
  } catch (e) {
    if (!/permission denied/.test(describeError(e))) app.fail("reading your roles", e);
    return { authEnabled: true, user, admin: false, writable: [] };
  }
}

function permText(t: Permission_Type): string {
  return Permission_Type[t] ?? String(t);
}

function rangeText(key: Uint8Array, end: Uint8Array): string {
  if (end.length === 0) return dec(key);
  if (end.length === 1 && end[0] === 0) return `[${dec(key)}, <end>)`;
  return `[${dec(key)}, ${dec(end)})`;
}

/** The auth page: login form, then users and roles for root. */
export const authPage: Page = (root, app) => {
  const perms = app.perms;
  const login = h("section", { "aria-labelledby": "login-h" });
  const lists = h("section", { class: "columns" });
  root.append(h("h1", {}, "Authentication"), login, lists);

  if (perms.user) {
    replace(login, h("h2", { id: "login-h" }, "Logged in"), h("p", {}, `You are ${perms.user}${perms.admin ? ", with the root role" : ""}. The token is sent with every call.`));
  } else if (perms.authEnabled) {
    const name = h("input", { id: "login-user", autocomplete: "username", required: true });
    const password = h("input", { id: "login-password", type: "password", autocomplete: "current-password" });
    const submit = async (e: Event) => {
      e.preventDefault();
      try {
        const r = await api.auth.authenticate({ name: name.value, password: password.value });
        session.set(name.value, r.token);
        app.note(`logged in as ${name.value}`);
        dispatchEvent(new Event("etcd-console-login"));
      } catch (err) {
        app.fail("login", err);
      }
    };
    replace(
      login,
      h("h2", { id: "login-h" }, "Log in"),
      h("p", {}, "Authentication is enabled on this cluster: log in to use the console."),
      h(
        "form",
        { class: "stack narrow", onsubmit: submit },
        h("label", { class: "field" }, h("span", {}, "User"), name),
        h("label", { class: "field" }, h("span", {}, "Password"), password),
        h("button", { type: "submit", class: "primary" }, "Log in"),
      ),
    );
    setTimeout(() => name.focus());
  } else {
    replace(login, h("h2", { id: "login-h" }, "Auth is disabled"), h("p", {}, "Every client may do everything. Enable it with `etcdctl auth enable` after adding the root user."));
  }

  if (!perms.admin) return () => {};
  const users = h("div", { "aria-label": "users" });
  const roles = h("div", { "aria-label": "roles" });
  lists.append(h("div", {}, h("h2", {}, "Users"), users), h("div", {}, h("h2", {}, "Roles"), roles));
  say(users, "loading…");
  say(roles, "loading…");
  void (async () => {
    try {
      const names = (await api.auth.userList({})).users;
      const rows = await Promise.all(names.map(async (n) => [n, (await api.auth.userGet({ name: n })).roles.join(", ") || "—"]));
      replace(users, rows.length ? table(["user", "roles"], rows, { id: "users" }) : h("p", { class: "muted" }, "no users"));
    } catch (e) {
      say(users, describeError(e));
    }
    try {
      const names = (await api.auth.roleList({})).roles;
      const rows = await Promise.all(
        names.map(async (n) => {
          const r = await api.auth.roleGet({ role: n });
          const p = n === "root" ? "everything" : r.perm.map((x) => `${permText(x.permType)} ${rangeText(x.key, x.rangeEnd)}`).join("; ") || "none";
          return [n, p];
        }),
      );
      replace(roles, rows.length ? table(["role", "permissions"], rows, { id: "roles" }) : h("p", { class: "muted" }, "no roles"));
    } catch (e) {
      say(roles, describeError(e));
    }
  })();
  return () => {};
};
