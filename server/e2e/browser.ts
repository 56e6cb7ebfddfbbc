/**
 * Headless Chromium for the web console's e2e tests: Debian's `chromium` (`/usr/bin/chromium`,
 * or `E2E_CHROMIUM_BIN`) driven by the npm `playwright-core` (no browser download), with a fresh
 * profile and every background network feature off, so the only requests are the test's.
 */
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { existsSync, rmSync } from "node:fs";
import { makeTempDir } from "./harness.ts";

/** The Chromium binary the tests drive. */
export const CHROMIUM_BIN: string = process.env.E2E_CHROMIUM_BIN ?? "/usr/bin/chromium";

/** Whether the browser tests can run here (the binary is installed). */
export const HAS_CHROMIUM: boolean = existsSync(CHROMIUM_BIN);

/** A running browser profile: `page()` opens a tab; `close()` ends the browser and removes the profile. */
export interface TestBrowser {
  context: BrowserContext;
  page(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Starts Chromium headless with a new profile dir. `ignoreHTTPSErrors` for `--auto-tls` members.
 * Every page logs its uncaught errors and failed requests to the test output.
 */
export async function launchBrowser(opts: { ignoreHTTPSErrors?: boolean } = {}): Promise<TestBrowser> {
  const profile = makeTempDir("chromium-profile");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 800 },
    ignoreHTTPSErrors: opts.ignoreHTTPSErrors ?? false,
  });
  return {
    context,
    async page(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      page.on("pageerror", (e) => console.error(`[browser] page error: ${e.message}`));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
