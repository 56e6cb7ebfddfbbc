/**
 * `--metrics-overhead`: what `/metrics` costs our server. Four copies of our binary run side by side
 * under the same closed-loop load, in alternating slices (runner.ts): `--metrics basic` (the
 * baseline), basic scraped every second, `--metrics extensive` (gRPC latency histograms) and
 * extensive scraped every second. The scrapes come from this (the benchmark) process, as a
 * Prometheus server would send them, over the client port's `/metrics`; each scrape reads the
 * whole text, so the server pays for rendering every family. Issue 9's target: put throughput
 * with metrics stays within 5 % of the baseline.
 */
import type { ServerSpec } from "./server.ts";

/** Scrape period of the scraped variants, ms (Prometheus' usual 15 s is far kinder; 1 s bounds the cost). */
export const SCRAPE_INTERVAL_MS = 1_000;

/** One variant: the server flags and whether it is scraped. */
export interface MetricsVariant extends ServerSpec {
  scraped: boolean;
}

/** The four variants of `binary`, baseline first (the report's ratios are against it). */
export function metricsVariants(binary: string): MetricsVariant[] {
  return [
    { label: "basic", binary, extraFlags: ["--metrics", "basic"], scraped: false },
    { label: "basic+scrape", binary, extraFlags: ["--metrics", "basic"], scraped: true },
    { label: "extensive", binary, extraFlags: ["--metrics", "extensive"], scraped: false },
    { label: "extensive+scrape", binary, extraFlags: ["--metrics", "extensive"], scraped: true },
  ];
}

/** A running scrape loop; `stop()` ends it and reports what it did. */
export interface Scraper {
  stop(): Promise<{ scrapes: number; failures: number; meanBytes: number; meanMs: number }>;
}

/** GETs `<endpoint>/metrics` every {@link SCRAPE_INTERVAL_MS} until stopped (one scrape at a time). */
export function startScraper(endpoint: string): Scraper {
  let stopped = false;
  let scrapes = 0;
  let failures = 0;
  let bytes = 0;
  let ms = 0;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${endpoint}/metrics`, { signal: AbortSignal.timeout(5_000) });
        const text = await res.text();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        scrapes++;
        bytes += text.length;
        ms += performance.now() - t0;
      } catch {
        failures++;
      }
      const wait = SCRAPE_INTERVAL_MS - (performance.now() - t0);
      if (wait > 0 && !stopped) await Bun.sleep(wait);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { scrapes, failures, meanBytes: scrapes ? bytes / scrapes : 0, meanMs: scrapes ? ms / scrapes : 0 };
    },
  };
}
