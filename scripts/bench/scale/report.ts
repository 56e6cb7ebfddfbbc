/** The scaling run's Markdown table: one row per measurement, one column per server, then ours/etcd. */
import type { ScaleOptions, ScaleResult } from "./steps.ts";

const MB = (b: number) => (b / 2 ** 20).toFixed(1);
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0));
const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** One row: what it measures, how to read its value from a result, how to print it. */
interface Row {
  what: string;
  value: (r: ScaleResult) => number;
  format: (n: number) => string;
}

/** The rows for `options` (so their labels carry the sizes). */
function rows(o: ScaleOptions): Row[] {
  const keys = o.keys.toLocaleString("en-US");
  const rows: Row[] = [
    { what: `load ${keys} keys (${o.valSize} B values, ${o.loadPutsPerRequest === 1 ? "one put per request" : `Txns of ${o.loadPutsPerRequest} puts`}, 64 in flight): time (s)`, value: (r) => r.load.ms / 1000, format: (n) => n.toFixed(1) },
    { what: "… keys/s", value: (r) => (o.keys * 1000) / r.load.ms, format: int },
    { what: "… data dir after load (MB, du)", value: (r) => r.load.dataDirBytes, format: MB },
    { what: "… RSS after load (MB)", value: (r) => r.load.rssBytes, format: MB },
    { what: "… peak RSS during load (MB)", value: (r) => r.load.peakRssBytes, format: MB },
    { what: `range of ${int(Math.min(o.rangeKeys, o.keys))} keys at ${keys} keys: median (ms)`, value: (r) => r.range.medianMs, format: ms },
    { what: `… slowest of ${o.rangeRequests} (ms)`, value: (r) => r.range.maxMs, format: ms },
    { what: "… server CPU per range (ms)", value: (r) => r.range.serverCpuMicrosPerRange / 1000, format: ms },
    { what: `${int(o.watchers)} watchers on distinct keys (${o.watchStreams} streams): create all (ms)`, value: (r) => r.watchers.createMs, format: ms },
    { what: "… RSS growth with the watchers (MB)", value: (r) => r.watchers.rssGrowthBytes, format: MB },
    { what: "… one put per watched key: first put → last event (ms)", value: (r) => r.watchers.deliverMs, format: ms },
    { what: `restart with ${keys} keys: exec → first answer (ms)`, value: (r) => r.restart.ms, format: ms },
    { what: "… RSS after restart (MB)", value: (r) => r.restart.rssBytes, format: MB },
    { what: "compaction of every revision so far (physical): revisions", value: (r) => r.compaction.revisions, format: int },
    { what: "… of them overwritten, freed by it", value: (r) => r.compaction.freedRows, format: int },
    { what: "… time (ms)", value: (r) => r.compaction.ms, format: ms },
    { what: "… longest answer gap of a 10 ms probe meanwhile (ms)", value: (r) => r.compaction.longestGapMs, format: ms },
    { what: `history: ${MB(o.historyBytes)} MB of ${int(o.historyValSize)} B values over 1,000 keys, not compacted: write (s)`, value: (r) => r.history.ms / 1000, format: (n) => n.toFixed(1) },
    { what: "… data dir with the history (MB, du)", value: (r) => r.history.dataDirBytes, format: MB },
    { what: "… restart with the history: exec → first answer (ms)", value: (r) => r.history.restartMs, format: ms },
    { what: "… RSS after that restart (MB)", value: (r) => r.history.rssBytes, format: MB },
  ];
  o.putValSizes.forEach((valSize, i) => {
    const at = (r: ScaleResult) => r.puts[i]!;
    rows.push(
      { what: `put, ${int(valSize)} B values, 64 clients over 8 connections: req/s`, value: (r) => at(r).requestsPerSecond, format: int },
      { what: "… MB/s of values", value: (r) => (at(r).requestsPerSecond * valSize) / 2 ** 20, format: (n) => n.toFixed(1) },
      { what: "… p99 (ms)", value: (r) => at(r).p99Ms, format: ms },
      { what: "… server CPU per put (µs)", value: (r) => at(r).serverCpuMicrosPerOp, format: (n) => n.toFixed(0) },
      { what: "… peak RSS (MB)", value: (r) => at(r).peakRssBytes, format: MB },
    );
  });
  return rows;
}

/** Renders the results (first = reference, e.g. etcd) as a Markdown table with an ours/etcd column. */
export function scaleMarkdown(o: ScaleOptions, results: ScaleResult[]): string {
  const [ref, other] = results;
  const head = ["measurement", ...results.map((r) => r.label), ...(other ? [`${other.label}/${ref!.label}`] : [])];
  const lines = [`| ${head.join(" | ")} |`, `|---|${results.map(() => "--:|").join("")}${other ? "--:|" : ""}`];
  for (const row of rows(o)) {
    const cells = results.map((r) => row.format(row.value(r)));
    if (other) {
      const ratio = row.value(other) / row.value(ref!);
      cells.push(Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "–");
    }
    lines.push(`| ${row.what} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
