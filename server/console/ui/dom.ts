/**
 * A few DOM helpers for the console's pages (no framework): `h` builds an element from a tag,
 * attributes and children; `confirmAction` asks before a destructive step with a modal
 * `<dialog>` (keyboard: Enter confirms, Escape cancels).
 */

type Child = Node | string | number | bigint | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;

/**
 * Creates `<tag>` with `attrs` (`on<event>` keys add listeners; `true` sets an empty attribute,
 * `false`/null/undefined leave it out) and appends `children` (strings become text nodes).
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

/** Appends children, skipping empty ones. */
export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "object" ? c : String(c));
  }
}

/** Replaces every child of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/**
 * Shows a modal confirmation with `title`, the explanation `text`, and the button `action`;
 * resolves true when confirmed, false when canceled (button, Escape).
 */
export function confirmAction(title: string, text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "aria-label": title });
    const done = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const form = h(
      "form",
      { method: "dialog", onsubmit: (e) => (e.preventDefault(), done(true)) },
      h("h2", {}, title),
      h("p", {}, text),
      h("div", { class: "row" }, h("button", { type: "submit", class: "danger", "data-confirm": "yes" }, action), h("button", { type: "button", onclick: () => done(false) }, "Cancel")),
    );
    dialog.append(form);
    dialog.addEventListener("cancel", (e) => (e.preventDefault(), done(false)));
    document.body.append(dialog);
    dialog.showModal();
    (form.querySelector("button[type=submit]") as HTMLButtonElement).focus();
  });
}

/** A labelled text input; returns [label element, input]. */
export function field(label: string, attrs: Attrs = {}): [HTMLLabelElement, HTMLInputElement] {
  const input = h("input", { type: "text", ...attrs });
  return [h("label", { class: "field" }, h("span", {}, label), input), input];
}
