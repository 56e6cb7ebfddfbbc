/**
 * The watch page: follows a prefix (etcdts.v1.Watch, the server-streaming Watch for browsers)
 * and lists events as they come (PUT/DELETE, key, revision, value, previous value). Pause stops
 * the stream and remembers the last revision; resume, and every reconnect after a lost
 * connection (retried after WATCH_RETRY_MS), start again at the last seen revision + 1, so no
 * event is lost or shown twice.
 */
import { Event_EventType } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { prefixEnd } from "../tree.ts";
import { api, dec, describeError, enc } from "./client.ts";
import { h } from "./dom.ts";
import type { Page } from "./app.ts";

/** Most rows kept in the list (older ones are dropped). */
const WATCH_MAX_ROWS = 1000;
/** Wait before reconnecting a broken watch, ms. */
const WATCH_RETRY_MS = 1000;

export const watchPage: Page = (root, app, arg) => {
  const prefix = h("input", { id: "watch-prefix", type: "search", value: arg || "/", "aria-label": "prefix to watch" });
  const fromRev = h("input", { id: "watch-rev", inputmode: "numeric", placeholder: "from revision (optional)", "aria-label": "start revision" });
  const startBtn = h("button", { id: "watch-start", type: "submit", class: "primary" }, "Watch");
  const pauseBtn = h("button", { id: "watch-pause", type: "button", disabled: true }, "Pause");
  const state = h("p", { id: "watch-state", class: "muted", role: "status" }, "not watching");
  const rows = h("tbody", { id: "watch-events" });
  root.append(
    h("h1", {}, "Watch"),
    h("form", { class: "row", onsubmit: (e) => (e.preventDefault(), begin()) }, prefix, fromRev, startBtn, pauseBtn, h("button", { type: "button", onclick: () => rows.replaceChildren() }, "Clear")),
    state,
    h("div", { class: "scroll" }, h("table", { class: "events" }, h("thead", {}, h("tr", {}, ...["revision", "event", "key", "value", "previous value"].map((c) => h("th", { scope: "col" }, c)))), rows)),
  );

  let ac: AbortController | undefined;
  let watching = "";
  let nextRev = 0n; // where the stream (re)starts; 0: now
  let paused = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const add = (type: string, key: string, rev: bigint, value: string, prev: string) => {
    const scroller = rows.closest(".scroll")!;
    const atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4;
    rows.append(h("tr", { class: type.toLowerCase() }, h("td", {}, String(rev)), h("td", {}, type), h("td", {}, key), h("td", {}, value), h("td", {}, prev)));
    while (rows.children.length > WATCH_MAX_ROWS) rows.firstElementChild!.remove();
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  };

  const run = async () => {
    clearTimeout(retry);
    ac?.abort();
    const mine = new AbortController();
    ac = mine;
    const key = enc(watching);
    try {
      const stream = api.watch.watch({ key: key.length ? key : new Uint8Array([0]), rangeEnd: prefixEnd(key), startRevision: nextRev, prevKv: true }, { signal: mine.signal });
      for await (const r of stream) {
        if (r.created) {
          if (nextRev === 0n) nextRev = r.header!.revision + 1n;
          state.textContent = `watching ${watching} from revision ${nextRev}`;
        }
        if (r.canceled) {
          state.textContent = r.compactRevision > 0n
            ? `revision ${nextRev} is compacted (oldest available: ${r.compactRevision}); start again from there or later`
            : `watch canceled: ${r.cancelReason || "by the server"}`;
          pauseBtn.disabled = true;
          return;
        }
        for (const ev of r.events) {
          const kv = ev.kv!;
          add(ev.type === Event_EventType.DELETE ? "DELETE" : "PUT", dec(kv.key), kv.modRevision, ev.type === Event_EventType.DELETE ? "" : dec(kv.value), ev.prevKv ? dec(ev.prevKv.value) : "");
          nextRev = kv.modRevision + 1n;
        }
      }
      if (!mine.signal.aborted) throw new Error("the stream ended");
    } catch (e) {
      if (mine.signal.aborted) return;
      state.textContent = `connection lost (${describeError(e)}); reconnecting from revision ${nextRev || "now"}…`;
      retry = setTimeout(() => void run(), WATCH_RETRY_MS);
    }
  };

  const begin = () => {
    watching = prefix.value;
    const rev = fromRev.value.trim();
    if (rev && !/^\d+$/.test(rev)) {
      app.warn(`not a revision: ${rev}`);
      return;
    }
    nextRev = rev ? BigInt(rev) : 0n;
    paused = false;
    pauseBtn.disabled = false;
    pauseBtn.textContent = "Pause";
    rows.replaceChildren();
    state.textContent = `starting watch on ${watching}…`;
    void run();
  };

  pauseBtn.addEventListener("click", () => {
    paused = !paused;
    pauseBtn.textContent = paused ? "Resume" : "Pause";
    if (paused) {
      clearTimeout(retry);
      ac?.abort();
      state.textContent = `paused; resumes from revision ${nextRev}`;
    } else {
      state.textContent = `resuming from revision ${nextRev}…`;
      void run();
    }
  });

  return () => {
    clearTimeout(retry);
    ac?.abort();
  };
};
