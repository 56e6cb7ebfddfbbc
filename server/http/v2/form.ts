/**
 * Go's `http.Request.ParseForm` for the v2 API (net/http request.go, net/url ParseQuery): the
 * query string, and for PUT, POST and PATCH an `application/x-www-form-urlencoded` body whose
 * values come before the query's. `+` is a space; a bad `%` escape fails with Go's
 * `invalid URL escape "%zz"`, a `;` in a query with `invalid semicolon separator in query`, a
 * body over {@link MAX_FORM_BYTES} with `http: POST too large`.
 */

/** Largest form body read, bytes (Go's maxFormSize, 10 MiB); a larger one fails with `http: POST too large`. */
export const MAX_FORM_BYTES = 10 << 20;

/** Form values by name, in order (Go's url.Values). */
export type FormValues = Map<string, string[]>;

/** A form Go refuses, with Go's message. */
export class FormError extends Error {}

/** Go's url.QueryUnescape (query mode). @throws FormError `invalid URL escape "%.."` */
function unescape(s: string): string {
  if (!s.includes("%")) return s.replaceAll("+", " ");
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new FormError(`invalid URL escape "${s.slice(i, i + 3)}"`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      bytes.push(...enc.encode(c === "+" ? " " : c));
      i++;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * Adds the pairs of `query` to `into` (Go's parseQuery): empty pairs are skipped; the first
 * error is kept but parsing goes on, as Go's does.
 */
function parseQuery(into: FormValues, query: string): FormError | undefined {
  let firstError: FormError | undefined;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    if (pair.includes(";")) {
      firstError ??= new FormError("invalid semicolon separator in query");
      continue;
    }
    const eq = pair.indexOf("=");
    try {
      const key = unescape(eq < 0 ? pair : pair.slice(0, eq));
      const value = unescape(eq < 0 ? "" : pair.slice(eq + 1));
      const list = into.get(key);
      if (list) list.push(value);
      else into.set(key, [value]);
    } catch (e) {
      if (!(e instanceof FormError)) throw e;
      firstError ??= e;
    }
  }
  return firstError;
}

/**
 * What parseForm reads of a request: a Web `Request` has it, and so does the HTTP/1.1 fast path
 * (server/http/v2/keys-node.ts). `url` may be absolute or the request target (`/path?query`).
 */
export interface FormRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  /** The body as UTF-8 text (read once). */
  text(): Promise<string>;
}

/**
 * The form of `req` (body values first, then the query's).
 * @throws FormError with Go's message
 */
export async function parseForm(req: FormRequest): Promise<FormValues> {
  const form: FormValues = new Map();
  let error: FormError | undefined;
  if (req.method === "PUT" || req.method === "POST" || req.method === "PATCH") {
    const ct = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (ct === "application/x-www-form-urlencoded") {
      if (Number(req.headers.get("content-length") ?? 0) > MAX_FORM_BYTES) throw new FormError("http: POST too large");
      const body = await req.text();
      if (Buffer.byteLength(body) > MAX_FORM_BYTES) throw new FormError("http: POST too large");
      error = parseQuery(form, body);
    }
  }
  const url = req.url;
  const q = url.indexOf("?");
  const queryError = q < 0 ? undefined : parseQuery(form, url.slice(q + 1).split("#")[0]!);
  error ??= queryError;
  if (error) throw error;
  return form;
}

/** The first value of `name`, "" when absent (Go's FormValue). */
export function formValue(form: FormValues, name: string): string {
  return form.get(name)?.[0] ?? "";
}
