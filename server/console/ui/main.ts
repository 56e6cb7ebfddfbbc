/**
 * The web console's entry: the header (navigation, connection state, theme, login), the page
 * area routed by the URL fragment (`#/keys`, `#/watch`, `#/leases`, `#/cluster`, `#/auth`), and
 * the connection monitor: Maintenance.Status every 3 s; when it fails the banner says the
 * member is unreachable and the check is retried (1 s, then up to every 5 s) until it answers.
 */
import { h, replace } from "./dom.ts";
import { api, describeError, isConnectionError, needsLogin, session } from "./client.ts";
import { hexId, messageArea, type App, type Page, type Permissions } from "./app.ts";
import { keysPage } from "./keys.ts";
import { watchPage } from "./watch.ts";
import { leasesPage } from "./leases.ts";
import { clusterPage } from "./cluster.ts";
import { authPage, loadPermissions } from "./auth.ts";

const PAGES: Record<string, { title: string; page: Page; admin?: boolean }> = {
  keys: { title: "Keys", page: keysPage },
  watch: { title: "Watch", page: watchPage },
  leases: { title: "Leases", page: leasesPage },
  cluster: { title: "Cluster", page: clusterPage },
  auth: { title: "Auth", page: authPage },
};

const THEME_KEY = "etcd-console-theme";

function applyTheme(theme: string | null): void {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function start(): void {
  applyTheme(localStorage.getItem(THEME_KEY));
  const nav = h("nav", { "aria-label": "pages" });
  const status = h("span", { class: "status", role: "status", "aria-live": "polite" }, "connecting…");
  const userBox = h("span", { class: "user" });
  const themeButton = h("button", {
    class: "link",
    title: "switch dark / light",
    onclick: () => {
      const dark = document.documentElement.dataset.theme === "dark" || (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
      const next = dark ? "light" : "dark";
      localStorage.setItem(THEME_KEY, next);
      applyTheme(next);
    },
  }, "◐ theme");
  const banner = h("div", { class: "banner", role: "alert", hidden: true });
  const messages = h("div", { class: "messages", "aria-live": "assertive" });
  const main = h("main", { id: "page", tabindex: "-1" });
  document.body.append(
    h("header", {}, h("a", { class: "brand", href: "#/keys" }, "etcd console"), nav, status, userBox, themeButton),
    banner,
    messages,
    main,
  );

  const perms: Permissions = { authEnabled: false, user: session.user, admin: true, writable: [] };
  let cleanup: (() => void) | undefined;
  const app: App = {
    perms,
    ...messageArea(messages, () => showLogin()),
    go(page, arg) {
      location.hash = `#/${page}${arg !== undefined ? "/" + encodeURIComponent(arg) : ""}`;
    },
  };

  const drawHeader = () => {
    replace(nav, ...Object.entries(PAGES).map(([id, p]) => h("a", { href: `#/${id}`, "data-page": id }, p.title)));
    replace(
      userBox,
      perms.user
        ? h("span", {}, `user ${perms.user}${perms.admin ? " (root)" : ""} `, h("button", { class: "link", onclick: () => logout() }, "log out"))
        : perms.authEnabled
          ? h("a", { href: "#/auth" }, "log in")
          : null,
    );
  };

  const route = () => {
    const [, id = "keys", ...rest] = location.hash.split("/");
    const entry = PAGES[id] ?? PAGES.keys!;
    cleanup?.();
    for (const a of nav.querySelectorAll("a")) a.toggleAttribute("aria-current", a.dataset.page === id);
    main.replaceChildren();
    document.title = `${entry.title} · etcd console`;
    cleanup = entry.page(main, app, decodeURIComponent(rest.join("/")));
  };

  const refreshPermissions = async () => {
    Object.assign(perms, await loadPermissions(app));
    drawHeader();
  };
  const showLogin = () => {
    perms.authEnabled = true;
    perms.admin = false;
    drawHeader();
    if (!location.hash.startsWith("#/auth")) app.go("auth");
  };
  const logout = () => {
    // etcd has no logout call: the token is forgotten here and expires on the server.
    session.clear();
    perms.user = null;
    void refreshPermissions().then(route);
  };
  addEventListener("etcd-console-login", () => void refreshPermissions().then(route));

  // Connection monitor.
  let failures = 0;
  const check = async () => {
    try {
      const s = await api.maintenance.status({});
      failures = 0;
      banner.hidden = true;
      status.textContent = `member ${hexId(s.header!.memberId)} · revision ${s.header!.revision} · leader ${s.leader ? hexId(s.leader) : "none"}`;
      setTimeout(check, 3000);
    } catch (e) {
      if (needsLogin(e) || !isConnectionError(e)) {
        banner.hidden = true;
        status.textContent = describeError(e);
        setTimeout(check, 3000);
        return;
      }
      failures++;
      const delay = Math.min(5000, 1000 * failures);
      banner.hidden = false;
      banner.textContent = `Connection to the member lost (${describeError(e)}); retrying in ${delay / 1000} s (attempt ${failures}).`;
      status.textContent = "disconnected";
      setTimeout(check, delay);
    }
  };

  drawHeader();
  addEventListener("hashchange", route);
  void refreshPermissions().finally(() => {
    route();
    void check();
  });
}

start();
