/** Types of the `parse-prometheus-text-format` npm package (it ships none): Prometheus text → metric families. */
declare module "parse-prometheus-text-format" {
  /** One sample: `value` for counters/gauges/untyped, `buckets`/`count`/`sum` for histograms. */
  export interface PromSample {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  /** One metric family: name, help, type in upper case (COUNTER, GAUGE, HISTOGRAM, SUMMARY, UNTYPED). */
  export interface PromFamily {
    name: string;
    help: string;
    type: string;
    metrics: PromSample[];
  }
  export default function parse(text: string): PromFamily[];
}
