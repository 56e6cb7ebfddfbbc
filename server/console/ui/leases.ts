/**
 * The leases page: every lease (LeaseLeases) with its TTL counting down (TimeToLive read every
 * LEASE_REFRESH_MS, counted down each second in between) and its keys; grant, keep-alive once
 * (the JSON gateway: `fetch` cannot carry the bidirectional LeaseKeepAlive), revoke.
 */
import { api, dec, keepAliveOnce } from "./client.ts";
import { confirmAction, h, replace } from "./dom.ts";
import { hexId, say, type Page } from "./app.ts";

/** How often the list is read again, ms. */
const LEASE_REFRESH_MS = 5000;
/** Most leases shown (TimeToLive is one call per lease). */
const LEASE_MAX_SHOWN = 200;

interface Row {
  id: bigint;
  granted: bigint;
  /** Seconds left at `at` (performance.now()). */
  ttl: number;
  at: number;
  keys: string[];
  ttlCell?: HTMLElement;
}

export const leasesPage: Page = (root, app, arg) => {
  const ttl = h("input", { id: "lease-ttl", inputmode: "numeric", value: "60", "aria-label": "TTL in seconds" });
  const list = h("div", { id: "leases" });
  root.append(
    h("h1", {}, "Leases"),
    h("form", { class: "row", onsubmit: (e) => (e.preventDefault(), grant()) }, h("label", { class: "field inline" }, h("span", {}, "TTL (s)"), ttl), h("button", { id: "lease-grant", type: "submit", class: "primary" }, "Grant lease")),
    list,
  );
  let rows: Row[] = [];
  let alive = true;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const grant = async () => {
    try {
      const r = await api.lease.leaseGrant({ TTL: BigInt(ttl.value || "0") });
      app.note(`granted lease ${hexId(r.ID)} with TTL ${r.TTL} s`);
      void refresh();
    } catch (e) {
      app.fail("granting a lease", e);
    }
  };
  const revoke = async (id: bigint) => {
    if (!(await confirmAction(`Revoke lease ${hexId(id)}?`, "Revoking a lease deletes every key attached to it.", "Revoke"))) return;
    try {
      await api.lease.leaseRevoke({ ID: id });
      app.note(`revoked lease ${hexId(id)}`);
      void refresh();
    } catch (e) {
      app.fail(`revoking lease ${hexId(id)}`, e);
    }
  };
  const keepAlive = async (id: bigint) => {
    try {
      const t = await keepAliveOnce(id);
      app.note(t > 0 ? `lease ${hexId(id)} kept alive: TTL ${t} s` : `lease ${hexId(id)} has expired`);
      void refresh();
    } catch (e) {
      app.fail(`keeping lease ${hexId(id)} alive`, e);
    }
  };

  const draw = () => {
    if (rows.length === 0) return say(list, "No leases.");
    const body = h("tbody");
    for (const r of rows) {
      r.ttlCell = h("td", { class: "ttl" });
      body.append(h("tr", { "data-lease": hexId(r.id), class: hexId(r.id) === arg ? "selected" : "" },
        h("td", {}, hexId(r.id)),
        h("td", {}, `${r.granted} s`),
        r.ttlCell,
        h("td", {}, ...(r.keys.length ? r.keys.flatMap((k, i) => [i ? ", " : "", h("a", { href: `#/keys/${encodeURIComponent(k)}` }, k)]) : ["—"])),
        h("td", {}, h("div", { class: "row" }, h("button", { onclick: () => keepAlive(r.id) }, "Keep alive"), h("button", { class: "danger", onclick: () => revoke(r.id) }, "Revoke"))),
      ));
    }
    replace(list, h("table", {}, h("thead", {}, h("tr", {}, ...["lease", "granted TTL", "remaining", "keys", ""].map((c) => h("th", { scope: "col" }, c)))), body));
    tick();
  };
  const tick = () => {
    const now = performance.now();
    for (const r of rows) {
      const left = Math.max(0, Math.ceil(r.ttl - (now - r.at) / 1000));
      if (r.ttlCell) r.ttlCell.textContent = r.ttl < 0 ? "expired" : `${left} s`;
    }
  };
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const ids = (await api.lease.leaseLeases({})).leases.map((l) => l.ID).slice(0, LEASE_MAX_SHOWN);
      const next = await Promise.all(ids.map(async (id): Promise<Row | null> => {
        const t = await api.lease.leaseTimeToLive({ ID: id, keys: true });
        if (t.TTL < 0n) return null; // expired between the two calls
        return { id, granted: t.grantedTTL, ttl: Number(t.TTL), at: performance.now(), keys: t.keys.map(dec) };
      }));
      if (!alive) return;
      rows = next.filter((r): r is Row => r !== null).sort((a, b) => (a.id < b.id ? -1 : 1));
      draw();
    } catch (e) {
      app.fail("listing leases", e);
    }
    if (alive) timer = setTimeout(() => void refresh(), LEASE_REFRESH_MS);
  };
  const ticker = setInterval(tick, 1000);
  say(list, "loading…");
  void refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
    clearInterval(ticker);
  };
};
