/**
 * `/ui` on the hono app of the client port: served from sources (built on the first request, as
 * `bun server/main.ts` does), gzip when accepted, the CSP naming the members' client URLs, the
 * fragment-routed page for unknown paths, and nothing at all with `--enable-ui=false`.
 */
import { expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { createHttpApp } from "../http/app.ts";
import { createFakeApi } from "../http/fake-api.ts";
import { parseConfig } from "../config.ts";
import { consoleCsp } from "./http.ts";

/** First load budget of the issue: compressed assets of the page, bytes. */
const FIRST_LOAD_BUDGET_BYTES = 300 * 1024;

test("GET /ui redirects to /ui/, which serves the page, its script and style sheet", async () => {
  const app = createHttpApp(createFakeApi(), { maxTxnOps: 128, ui: true });
  const redirect = await app.request("/ui");
  expect(redirect.status).toBe(301);
  expect(redirect.headers.get("location")).toBe("/ui/");

  let compressed = 0;
  for (const [path, type, marker] of [
    ["/ui/", "text/html; charset=utf-8", '<script type="module" src="console.js">'],
    ["/ui/console.js", "text/javascript; charset=utf-8", "etcd-console-token"],
    ["/ui/console.css", "text/css; charset=utf-8", "prefers-color-scheme"],
  ] as const) {
    const gz = await app.request(path, { headers: { "accept-encoding": "gzip, br" } });
    expect(gz.status).toBe(200);
    expect(gz.headers.get("content-type")).toBe(type);
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    const body = new Uint8Array(await gz.arrayBuffer());
    compressed += body.byteLength;
    const plain = await app.request(path);
    expect(plain.headers.get("content-encoding")).toBeNull();
    const text = await plain.text();
    expect(new TextDecoder().decode(gunzipSync(body))).toBe(text);
    expect(text).toContain(marker);
    expect(plain.headers.get("content-security-policy")).toStartWith("default-src 'self'; script-src 'self';");
  }
  expect(compressed).toBeLessThan(FIRST_LOAD_BUDGET_BYTES);
  // No external URL in what the page loads (http(s) URLs in the bundle would be fetched or linked).
  const js = await (await app.request("/ui/console.js")).text();
  expect(js.match(/https?:\/\/(?!www\.w3\.org\/)[a-z0-9.-]+/gi) ?? []).toEqual([]);

  // Unknown paths under /ui/ are the page (the console routes with the URL fragment).
  expect(await (await app.request("/ui/keys/whatever")).text()).toContain("<title>etcd console</title>");
  // HEAD: headers only.
  const head = await app.request("/ui/", { method: "HEAD" });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe("");
  // Other methods are not the console's.
  expect((await app.request("/ui/", { method: "POST" })).status).toBe(404);
}, 60_000);

test("the CSP allows API calls to this origin and the members' client URLs only", () => {
  expect(consoleCsp(["http://127.0.0.1:2379", "https://10.0.0.2:2379/", "not a url"])).toBe(
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' http://127.0.0.1:2379 https://10.0.0.2:2379; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
});

test("without ui (--enable-ui=false) /ui is Go's 404", async () => {
  const app = createHttpApp(createFakeApi(), { maxTxnOps: 128, ui: false });
  for (const path of ["/ui", "/ui/", "/ui/console.js"]) {
    const r = await app.request(path);
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("404 page not found\n");
  }
});

test("--enable-ui defaults to true and takes false", () => {
  const on = parseConfig([], {});
  const off = parseConfig(["--enable-ui=false"], {});
  expect(on.kind === "run" && on.config.enableUi).toBe(true);
  expect(off.kind === "run" && off.config.enableUi).toBe(false);
  const env = parseConfig([], { ETCD_ENABLE_UI: "false" });
  expect(env.kind === "run" && env.config.enableUi).toBe(false);
});
