/**
 * The keys page: a tree of the keys by `/`-separated prefix (server/console/tree.ts: pages of
 * TREE_PAGE_SIZE keys by `limit` and the last key, folder counts by `count_only` Ranges), search
 * by prefix, and the selected key: value as text/JSON/hex, revisions, lease, history, and
 * create/edit/delete as Txns guarded by the revision that was read (a concurrent change makes
 * the Txn fail and is shown instead of overwritten).
 */
import { Compare_CompareResult, Compare_CompareTarget, type RangeResponse } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { KeyValue } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { groupPage, hasNextPage, nextPageStart, pageRequest, prefixEnd, type TreeEntry } from "../tree.ts";
import { defaultView, renderValue, type ValueView } from "../values.ts";
import { api, dec, describeError, enc } from "./client.ts";
import { confirmAction, h, replace } from "./dom.ts";
import { hexId, say, table, type App, type Page } from "./app.ts";
import { canWrite } from "../permissions.ts";
import { keyHistory } from "./history.ts";

/** Keys fetched per tree page. */
export const TREE_PAGE_SIZE = 200;
/** Rows a "load" adds at least (more pages are read while fewer were added and there are more). */
const TREE_MIN_ENTRIES = 50;
/** Most pages one "load" reads. */
const TREE_MAX_ROUNDS = 5;
/** Folder counts fetched at once. */
const COUNT_CONCURRENCY = 6;

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

function countOf(prefix: string): Promise<bigint> {
  const p = enc(prefix);
  return api.kv.range({ key: p.length ? p : new Uint8Array([0]), rangeEnd: prefixEnd(p), countOnly: true }).then((r) => r.count);
}

export const keysPage: Page = (root, app, arg) => {
  let alive = true;
  const search = h("input", { type: "search", id: "prefix", placeholder: "prefix, e.g. /app/", "aria-label": "key prefix", value: "" });
  const tree = h("div", { class: "tree", role: "tree", "aria-label": "keys" });
  const detail = h("section", { class: "detail", "aria-label": "key" });
  const summary = h("p", { class: "muted", id: "tree-summary" });
  root.append(
    h("h1", {}, "Keys"),
    h(
      "div",
      { class: "split" },
      h(
        "section",
        { class: "side", "aria-label": "key tree" },
        h("form", { class: "row", role: "search", onsubmit: (e) => (e.preventDefault(), openRoot(search.value)) }, search, h("button", { type: "submit" }, "Search")),
        h("div", { class: "row" }, app.perms.admin || app.perms.writable.length > 0 ? h("button", { id: "new-key", class: "primary", onclick: () => showNew(search.value) }, "New key") : null, h("button", { onclick: () => openRoot(search.value) }, "Refresh")),
        summary,
        tree,
      ),
      detail,
    ),
  );

  /** Loads one page of `prefix` into `list` (after what is there); returns when drawn. */
  /**
   * Loads pages of `prefix` into `list` (after what is there) until TREE_MIN_ENTRIES entries were
   * added or the listing ends (a page whose keys all fall in one or two folders adds few rows);
   * leaves a "Load more" row when there is more. Resolves once drawn.
   */
  const loadPage = async (prefix: string, list: HTMLElement, from: Uint8Array | undefined): Promise<void> => {
    let start = from;
    let added = 0;
    for (let round = 0; round < TREE_MAX_ROUNDS; round++) {
      const r = await loadOnePage(prefix, list, start);
      if (!r) return;
      added += r.added;
      start = r.next;
      if (added >= TREE_MIN_ENTRIES) break;
    }
    const next = start;
    const more: HTMLLIElement = h("li", { class: "more" }, h("button", {
      onclick: async () => {
        try {
          await loadPage(prefix, list, next);
        } catch (e) {
          app.fail(`listing ${prefix}`, e);
        }
      },
    }, "Load more…"));
    list.append(more);
  };

  /** Loads one page; returns how many entries it added and where the next page starts, or null at the end. */
  const loadOnePage = async (prefix: string, list: HTMLElement, from: Uint8Array | undefined): Promise<{ added: number; next: Uint8Array } | null> => {
    const req = pageRequest(prefix, from, TREE_PAGE_SIZE);
    const resp: RangeResponse = await api.kv.range(req);
    if (!alive) return null;
    const entries = groupPage(prefix, resp.kvs.map((kv) => dec(kv.key)));
    const items: HTMLElement[] = [];
    const folders: [TreeEntry & { kind: "folder" }, HTMLElement][] = [];
    for (const e of entries) {
      if (e.kind === "folder") {
        const count = h("span", { class: "count" }, "…");
        const item = folderItem(e, count);
        folders.push([e, count]);
        items.push(item);
      } else {
        items.push(h("li", { role: "treeitem", class: "leaf" }, h("button", { class: "key", "data-key": e.key, onclick: () => select(e.key) }, e.name)));
      }
    }
    list.querySelector(":scope > li.more")?.remove();
    list.append(...items);
    void pool(folders, COUNT_CONCURRENCY, async ([e, el]) => {
      try {
        el.textContent = String(await countOf(e.prefix));
      } catch {
        el.textContent = "?";
      }
    });
    const next = nextPageStart(entries);
    return next && hasNextPage(resp.more, next, req.rangeEnd) ? { added: entries.length, next } : null;
  };

  const folderItem = (e: TreeEntry & { kind: "folder" }, count: HTMLElement): HTMLLIElement => {
    const children = h("ul", { role: "group", hidden: true });
    const button = h("button", { class: "folder", "aria-expanded": "false", "data-prefix": e.prefix }, `▸ ${e.name} `, count);
    let loaded = false;
    button.addEventListener("click", async () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      button.firstChild!.textContent = `${open ? "▾" : "▸"} ${e.name} `;
      children.hidden = !open;
      if (open && !loaded) {
        loaded = true;
        const t0 = performance.now();
        try {
          await loadPage(e.prefix, children, undefined);
          button.dataset.loadMs = (performance.now() - t0).toFixed(0);
        } catch (err) {
          loaded = false;
          app.fail(`listing ${e.prefix}`, err);
        }
      }
    });
    return h("li", { role: "treeitem", class: "node" }, button, children);
  };

  const openRoot = async (prefix: string) => {
    const list = h("ul", { role: "group" });
    replace(tree, list);
    summary.textContent = "loading…";
    const t0 = performance.now();
    try {
      await loadPage(prefix, list, undefined);
      const ms = performance.now() - t0;
      summary.textContent = `${prefix ? `under ${prefix}` : "all keys"} · first page in ${ms.toFixed(0)} ms`;
      const n = await countOf(prefix);
      if (alive) summary.textContent = `${n} keys ${prefix ? `under ${prefix}` : "in total"} · first page in ${ms.toFixed(0)} ms`;
    } catch (e) {
      summary.textContent = "";
      app.fail(`listing ${prefix || "all keys"}`, e);
    }
  };

  // ---- the selected key ----
  /** Shows `key` and puts it in the URL without redrawing the page (the tree stays as it is). */
  const select = (key: string) => {
    history.replaceState(null, "", `#/keys/${encodeURIComponent(key)}`);
    void showKey(key);
  };
  const showKey = async (key: string) => {
    say(detail, "loading…");
    let resp: RangeResponse;
    try {
      resp = await api.kv.range({ key: enc(key) });
    } catch (e) {
      say(detail, "");
      app.fail(`reading ${key}`, e);
      return;
    }
    if (!alive) return;
    const kv = resp.kvs[0];
    if (!kv) {
      replace(detail, h("h2", {}, key), h("p", { class: "muted" }, `not found at revision ${resp.header!.revision}`), historyBlock(key, 0n));
      return;
    }
    drawKey(kv);
  };

  const drawKey = (kv: KeyValue) => {
    const key = dec(kv.key);
    let view: ValueView = defaultView(kv.value);
    const pre = h("pre", { class: "value", id: "value", tabindex: "0" });
    const draw = () => (pre.textContent = renderValue(kv.value, view));
    const views = h("div", { class: "row", role: "radiogroup", "aria-label": "value view" },
      ...(["text", "json", "hex"] as const).map((v) => {
        const input = h("input", { type: "radio", name: "view", value: v, checked: v === view, onchange: () => ((view = v), draw()) });
        return h("label", {}, input, ` ${v}`);
      }),
    );
    draw();
    const editor = h("textarea", { id: "edit-value", rows: 6, "aria-label": "new value" });
    editor.value = dec(kv.value);
    const conflict = h("div", { class: "conflict", role: "alert", hidden: true });
    const save = async () => {
      try {
        const r = await api.kv.txn({
          compare: [{ key: kv.key, target: Compare_CompareTarget.MOD, result: Compare_CompareResult.EQUAL, targetUnion: { case: "modRevision", value: kv.modRevision } }],
          success: [{ request: { case: "requestPut", value: { key: kv.key, value: enc(editor.value), ignoreLease: kv.lease !== 0n } } }],
          failure: [{ request: { case: "requestRange", value: { key: kv.key } } }],
        });
        if (r.succeeded) {
          app.note(`saved ${key} at revision ${r.header!.revision}`);
          return showKey(key);
        }
        showConflict(r.responses[0]?.response.case === "responseRange" ? r.responses[0].response.value.kvs[0] : undefined);
      } catch (e) {
        app.fail(`saving ${key}`, e);
      }
    };
    const remove = async () => {
      if (!(await confirmAction(`Delete ${key}?`, `Deletes the key if it is still at mod revision ${kv.modRevision}; a newer change is shown instead.`, "Delete"))) return;
      try {
        const r = await api.kv.txn({
          compare: [{ key: kv.key, target: Compare_CompareTarget.MOD, result: Compare_CompareResult.EQUAL, targetUnion: { case: "modRevision", value: kv.modRevision } }],
          success: [{ request: { case: "requestDeleteRange", value: { key: kv.key } } }],
          failure: [{ request: { case: "requestRange", value: { key: kv.key } } }],
        });
        if (r.succeeded) {
          app.note(`deleted ${key} at revision ${r.header!.revision}`);
          return showKey(key);
        }
        showConflict(r.responses[0]?.response.case === "responseRange" ? r.responses[0].response.value.kvs[0] : undefined);
      } catch (e) {
        app.fail(`deleting ${key}`, e);
      }
    };
    const showConflict = (now: KeyValue | undefined) => {
      conflict.hidden = false;
      replace(
        conflict,
        h("strong", {}, "Conflict: not saved. "),
        now
          ? `The key changed since you read it (mod revision ${kv.modRevision} → ${now.modRevision}). Its value now: `
          : `The key was deleted since you read it (mod revision ${kv.modRevision}).`,
        now ? h("code", { class: "now" }, dec(now.value)) : null,
        " ",
        h("button", { onclick: () => showKey(key) }, "Reload"),
      );
    };
    replace(
      detail,
      h("h2", { id: "key-name" }, key),
      table(["create rev", "mod rev", "version", "lease"], [[
        String(kv.createRevision),
        String(kv.modRevision),
        String(kv.version),
        kv.lease ? h("a", { href: `#/leases/${hexId(kv.lease)}` }, hexId(kv.lease)) : "none",
      ]], { class: "meta" }),
      views,
      pre,
      ...(canWrite(app.perms.admin, app.perms.writable, kv.key)
        ? [
          h("h3", {}, "Edit"),
          editor,
          h("div", { class: "row" },
            h("button", { id: "save", class: "primary", onclick: save }, "Save"),
            h("button", { id: "delete", class: "danger", onclick: remove }, "Delete"),
          ),
          conflict,
        ]
        : [h("p", { class: "muted", id: "read-only" }, "Read only: your roles do not let you write this key.")]),
      historyBlock(key, kv.modRevision),
    );
  };

  const historyBlock = (key: string, until: bigint): HTMLElement => {
    const out = h("div", { id: "history" });
    const block = h("section", { "aria-label": "history" }, h("h3", {}, "History"), h("button", {
      id: "show-history",
      onclick: async () => {
        say(out, "reading…");
        try {
          const { changes, from } = await keyHistory(enc(key), until);
          replace(out,
            h("p", { class: "muted" }, `since revision ${from}${from > 1n ? " (older revisions are compacted)" : ""}: ${changes.length} changes`),
            table(["revision", "event", "version", "value"], changes.slice().reverse().map((c) => [String(c.revision), c.type, String(c.version), c.type === "PUT" ? renderValue(c.value, "text") : "—"]), { class: "history" }),
          );
        } catch (e) {
          say(out, describeError(e));
        }
      },
    }, "Show history"), out);
    return block;
  };

  const showNew = (prefix: string) => {
    const key = h("input", { id: "new-key-name", value: prefix, "aria-label": "key", required: true });
    const value = h("textarea", { id: "new-key-value", rows: 4, "aria-label": "value" });
    const lease = h("input", { id: "new-key-lease", placeholder: "lease ID (hex), optional", "aria-label": "lease" });
    const create = async (e: Event) => {
      e.preventDefault();
      try {
        const k = enc(key.value);
        const r = await api.kv.txn({
          compare: [{ key: k, target: Compare_CompareTarget.CREATE, result: Compare_CompareResult.EQUAL, targetUnion: { case: "createRevision", value: 0n } }],
          success: [{ request: { case: "requestPut", value: { key: k, value: enc(value.value), lease: lease.value ? BigInt("0x" + lease.value) : 0n } } }],
        });
        if (!r.succeeded) {
          app.warn(`not created: ${key.value} already exists (open it to edit)`);
          return;
        }
        app.note(`created ${key.value} at revision ${r.header!.revision}`);
        select(key.value);
      } catch (err) {
        app.fail(`creating ${key.value}`, err);
      }
    };
    replace(
      detail,
      h("h2", {}, "New key"),
      h("form", { class: "stack", onsubmit: create },
        h("label", { class: "field" }, h("span", {}, "Key"), key),
        h("label", { class: "field" }, h("span", {}, "Value"), value),
        h("label", { class: "field" }, h("span", {}, "Lease"), lease),
        h("button", { type: "submit", id: "create", class: "primary" }, "Create (only if absent)"),
      ),
    );
    key.focus();
  };

  void openRoot("");
  if (arg) void showKey(arg);
  else say(detail, "Select a key, or create one.");
  return () => {
    alive = false;
  };
};
