/**
 * etcd's v2 keys API metrics (etcdserver/api/v2http/metrics.go), registered by etcd whether or
 * not `--enable-v2` is set: `etcd_http_received_total{method}` for every parsed request that is
 * not a watch, `etcd_http_failed_total{method,code}` for every request the server refused (code:
 * the HTTP status of the v2 error, 500 otherwise), `etcd_http_successful_duration_seconds{method}`
 * for answered non-watch requests. A quorum GET's method is `QGET`.
 */
import { Histogram } from "prom-client";

/** etcd's buckets: 0.5 ms doubling 13 times (`prometheus.ExponentialBuckets(0.0005, 2, 13)`), seconds. */
export const V2_HTTP_BUCKETS_SECONDS: readonly number[] = Array.from({ length: 13 }, (_, i) => 0.0005 * 2 ** i);

/** The counters the keys handler bumps; the registry reads them at scrape time. */
export class V2HttpCounters {
  /** Requests received, by method. */
  readonly received = new Map<string, number>();
  /** Failures, by `<method> <code>`. */
  readonly failed = new Map<string, number>();
  readonly successSeconds = new Histogram({
    name: "etcd_http_successful_duration_seconds",
    help: "Bucketed histogram of processing time (s) of successfully handled requests (non-watches), by method (GET/PUT etc.).",
    labelNames: ["method"],
    buckets: [...V2_HTTP_BUCKETS_SECONDS],
    registers: [],
  });

  receivedOne(method: string): void {
    this.received.set(method, (this.received.get(method) ?? 0) + 1);
  }

  failedOne(method: string, code: number): void {
    const key = `${method} ${code}`;
    this.failed.set(key, (this.failed.get(key) ?? 0) + 1);
  }

  completed(method: string, seconds: number): void {
    this.successSeconds.observe({ method }, seconds);
  }
}
