/**
 * `GET /metrics` on a hono app: the Prometheus text exposition of a member's registry
 * (server/metrics/registry.ts), content type `text/plain; version=0.0.4; charset=utf-8` as
 * etcd's promhttp handler answers.
 */
import type { Hono } from "hono";
import type { Registry } from "prom-client";

/** Mounts `/metrics` serving `registry` (any method, as Go's promhttp handler). */
export function mountMetrics(app: Hono, registry: Registry): void {
  app.all("/metrics", async (c) => c.body(await registry.metrics(), 200, { "content-type": registry.contentType }));
}
