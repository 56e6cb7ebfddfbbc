/**
 * What every page of the console shares: where errors are shown, what the user may do, and the
 * connection state. Pages are functions `(root, app) => cleanup` (server/console/ui/main.ts).
 */
import { h, replace } from "./dom.ts";
import { describeError, needsLogin } from "./client.ts";
import type { KeyRange } from "../permissions.ts";

/** What the current user may do; with auth disabled everything is allowed (`admin`). */
export interface Permissions {
  /** Auth is enabled on the cluster (a call asked for a token). */
  authEnabled: boolean;
  /** Logged-in user name, or null. */
  user: string | null;
  /** Root role (or auth disabled): cluster operations, users and roles. */
  admin: boolean;
  /** The key ranges the user may write (from their roles' permissions); everything when `admin`. */
  writable: KeyRange[];
}



/** The shared state handed to pages. */
export interface App {
  perms: Permissions;
  /** Shows a failed call (`<Code> (<n>): <message>`) in the error area; a login request opens the login page. */
  fail(what: string, e: unknown): void;
  /** Shows a short success note. */
  note(text: string): void;
  /** Shows a refusal that is not a server error (e.g. a Txn whose compare failed). */
  warn(text: string): void;
  /** Goes to a page (`keys`, `watch`, `leases`, `cluster`, `auth`), optionally with an argument (`#/keys/<key>`). */
  go(page: string, arg?: string): void;
}

/** A page: draws itself into `root`; returns what stops its timers and streams. */
export type Page = (root: HTMLElement, app: App, arg: string) => () => void;

/** Creates the error/notice area of the app in `area`. */
export function messageArea(area: HTMLElement, onLogin: () => void): Pick<App, "fail" | "note" | "warn"> {
  const push = (cls: string, text: string) => {
    const item = h("div", { class: `msg ${cls}` }, h("span", {}, text), h("button", { class: "link", "aria-label": "dismiss", onclick: () => item.remove() }, "×"));
    area.prepend(item);
    while (area.children.length > 5) area.lastElementChild!.remove();
    if (cls === "ok") setTimeout(() => item.remove(), 4000);
  };
  return {
    fail(what, e) {
      if (needsLogin(e)) onLogin();
      push("error", `${what}: ${describeError(e)}`);
    },
    note(text) {
      push("ok", text);
    },
    warn(text) {
      push("error", text);
    },
  };
}

/** A table from a header row and rows of cells. */
export function table(head: string[], rows: (Node | string)[][], attrs: Record<string, string> = {}): HTMLTableElement {
  const t = h("table", attrs, h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))));
  const body = h("tbody");
  for (const r of rows) body.append(h("tr", {}, ...r.map((c) => h("td", {}, c))));
  t.append(body);
  return t;
}

/** Hex of an etcd ID (members, leases), as etcdctl prints it. */
export function hexId(id: bigint): string {
  return id.toString(16);
}

/** Bytes as `12 MB`-style text. */
export function sizeText(n: bigint | number): string {
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  if (v < 1024 ** 3) return `${(v / 1024 / 1024).toFixed(1)} MiB`;
  return `${(v / 1024 ** 3).toFixed(2)} GiB`;
}

/** Replaces `el`'s content with a one-line message (loading, empty). */
export function say(el: HTMLElement, text: string): void {
  replace(el, h("p", { class: "muted" }, text));
}
