/**
 * The scaling run against one server, step by step (scripts/scale.ts runs it for etcd, then for ours):
 * 1. load `keys` keys with `valSize` values, one put per request by default (time, data-dir size, RSS);
 * 2. range of `rangeKeys` keys out of them (median and slowest of `rangeRequests` serial requests, server CPU each);
 * 3. `watchers` watchers on distinct keys (creation, RSS growth, delivery of one event each; watchers.ts);
 * 4. restart with the keys: exec → first answered request, RSS after;
 * 5. `overwrites` puts over the loaded keys, then compaction of every revision so far (Compact with physical=true),
 *    with the longest answer gap of a 10 ms probe meanwhile (gap-probe.ts);
 * 6. history: `historyBytes` of values (`historyValSize` each) overwriting 1,000 keys, not compacted; data-dir size
 *    and restart time with it;
 * 7. put rate with each of `putValSizes` (64 clients over 8 connections, closed loop, via the benchmark's generator).
 */
import type { GeneratorHandle } from "../generator-handle.ts";
import { runWorkload } from "../runner.ts";
import type { RunningServer } from "../server.ts";
import type { WorkloadOptions } from "../workload.ts";
import { makeValue } from "../workloads/keys.ts";
import { ScaleClient, scaleKey } from "./client.ts";
import { diskUsageBytes } from "./disk.ts";
import { startGapProbe } from "./gap-probe.ts";
import { putKeys } from "./load.ts";
import { runWatchers, type WatchersResult } from "./watchers.ts";

/** Sizes of the run (flags of scripts/scale.ts). */
export interface ScaleOptions {
  keys: number;
  valSize: number;
  /** Puts per request of the load step (1: one revision per key; more: Txns). */
  loadPutsPerRequest: number;
  rangeKeys: number;
  rangeRequests: number;
  watchers: number;
  watchStreams: number;
  /** Loaded keys overwritten once before the compaction step (so it frees that many revisions). */
  overwrites: number;
  historyBytes: number;
  historyValSize: number;
  putValSizes: number[];
  putSeconds: number;
}

/** Keys the history step overwrites. */
const HISTORY_KEYS = 1_000;

/** Everything measured on one server. Times in ms, sizes in bytes. */
export interface ScaleResult {
  label: string;
  load: { ms: number; dataDirBytes: number; rssBytes: number; peakRssBytes: number };
  range: { keys: number; medianMs: number; maxMs: number; serverCpuMicrosPerRange: number };
  watchers: WatchersResult;
  restart: { ms: number; rssBytes: number };
  /** freedRows: the rows overwritten since the load (overwrites and watched-key puts), which the compaction frees. */
  compaction: { revisions: number; freedRows: number; ms: number; longestGapMs: number; probeAnswers: number };
  history: { bytes: number; puts: number; ms: number; dataDirBytes: number; restartMs: number; rssBytes: number };
  puts: { valSize: number; requestsPerSecond: number; p99Ms: number; serverCpuMicrosPerOp: number; peakRssBytes: number }[];
}


/** Median of a list (NaN when empty). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[sorted.length >> 1]!;
}

/** Runs every step against `server`; `log` gets a line per step. */
export async function runScaleSteps(server: RunningServer, generator: GeneratorHandle, o: ScaleOptions, log: (line: string) => void): Promise<ScaleResult> {
  const label = server.spec.label;
  const say = (line: string) => log(`  ${label}: ${line}`);
  const MB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  let client = new ScaleClient(server.endpoint);
  try {
    // 1. load
    server.resetPeakRss();
    const loadMs = await putKeys(server.endpoint, o.keys, o.keys, makeValue(o.valSize), o.loadPutsPerRequest, (done) => say(`loaded ${done.toLocaleString("en-US")} keys`));
    await Bun.sleep(1_000);
    const load = { ms: loadMs, dataDirBytes: diskUsageBytes(server.dataDir), rssBytes: server.rssBytes(), peakRssBytes: server.peakRssBytes() };
    say(`load ${(loadMs / 1000).toFixed(1)} s, data dir ${MB(load.dataDirBytes)}, RSS ${MB(load.rssBytes)} (peak ${MB(load.peakRssBytes)})`);

    // 2. range
    const rangeKeys = Math.min(o.rangeKeys, o.keys);
    const times: number[] = [];
    const cpu0 = server.cpuMicros();
    for (let i = 0; i < o.rangeRequests; i++) {
      const t0 = performance.now();
      const r = await client.kv.range({ key: scaleKey(0), rangeEnd: scaleKey(rangeKeys) });
      times.push(performance.now() - t0);
      if (r.kvs.length !== rangeKeys) throw new Error(`${label}: range returned ${r.kvs.length} keys, expected ${rangeKeys}`);
    }
    const range = { keys: rangeKeys, medianMs: median(times), maxMs: Math.max(...times), serverCpuMicrosPerRange: (server.cpuMicros() - cpu0) / o.rangeRequests };
    say(`range of ${rangeKeys} keys: median ${range.medianMs.toFixed(1)} ms, slowest ${range.maxMs.toFixed(1)} ms`);

    // 3. watchers
    const watchers = await runWatchers(client, Math.min(o.watchers, o.keys), o.watchStreams, makeValue(o.valSize), () => server.rssBytes());
    say(`${watchers.watchers} watchers created in ${watchers.createMs.toFixed(0)} ms (RSS +${MB(watchers.rssGrowthBytes)}), events in ${watchers.deliverMs.toFixed(0)} ms`);

    // 4. restart with the keys
    client.close();
    const restartMs = await server.restart();
    client = new ScaleClient(server.endpoint);
    await Bun.sleep(1_000);
    const restart = { ms: restartMs, rssBytes: server.rssBytes() };
    say(`restart with ${o.keys.toLocaleString("en-US")} keys: ${restartMs.toFixed(0)} ms, RSS ${MB(restart.rssBytes)}`);

    // 5. compaction of every revision so far, after overwriting the first `overwrites` keys once
    //    (each overwrite leaves one revision for the compaction to free)
    const overwrites = Math.min(o.overwrites, o.keys);
    const overwriteMs = overwrites > 0 ? await putKeys(server.endpoint, overwrites, o.keys, makeValue(o.valSize), o.loadPutsPerRequest) : 0;
    if (overwrites > 0) say(`overwrote ${overwrites.toLocaleString("en-US")} keys in ${(overwriteMs / 1000).toFixed(1)} s`);
    const revision = await client.revision();
    const probe = startGapProbe(server.endpoint);
    await Bun.sleep(200);
    const c0 = performance.now();
    await client.kv.compact({ revision, physical: true });
    const compactMs = performance.now() - c0;
    await Bun.sleep(200);
    const gap = await probe.stop();
    const compaction = { revisions: Number(revision) - 1, freedRows: overwrites + watchers.watchers, ms: compactMs, longestGapMs: gap.longestGapMs, probeAnswers: gap.answers };
    say(`compaction of ${compaction.revisions.toLocaleString("en-US")} revisions: ${compactMs.toFixed(0)} ms, longest answer gap ${gap.longestGapMs.toFixed(0)} ms`);

    // 6. history, then restart with it
    const historyPuts = Math.max(1, Math.ceil(o.historyBytes / o.historyValSize));
    const historyMs = await putKeys(server.endpoint, historyPuts, Math.min(HISTORY_KEYS, historyPuts), makeValue(o.historyValSize), 1, (done) =>
      say(`history: ${MB(done * o.historyValSize)} written`),
    );
    const historyDirBytes = diskUsageBytes(server.dataDir);
    client.close();
    const historyRestartMs = await server.restart();
    client = new ScaleClient(server.endpoint);
    await Bun.sleep(1_000);
    const history = {
      bytes: historyPuts * o.historyValSize,
      puts: historyPuts,
      ms: historyMs,
      dataDirBytes: historyDirBytes,
      restartMs: historyRestartMs,
      rssBytes: server.rssBytes(),
    };
    say(`history ${MB(history.bytes)} in ${(historyMs / 1000).toFixed(1)} s, data dir ${MB(historyDirBytes)}, restart ${historyRestartMs.toFixed(0)} ms, RSS ${MB(history.rssBytes)}`);

    // 7. put rates
    const puts: ScaleResult["puts"] = [];
    for (const valSize of o.putValSizes) {
      const options: WorkloadOptions = {
        mode: "put",
        clients: 64,
        conns: 8,
        keySize: 8,
        valSize,
        keySpaceSize: 1,
        sequentialKeys: false,
        consistency: "l",
        rangeKey: "",
        rangeEnd: "",
        rangeKeys: 1,
        deleteKeys: 1,
        txnOps: 1,
        client: "raw",
      };
      const settings = { slices: 3, sliceMs: (o.putSeconds * 1000) / 3, warmupMs: 500, totalPerServer: 1_000_000, settleMs: 200 };
      const run = await runWorkload(generator, [server], options, settings, () => undefined);
      const r = run.results[0]!;
      puts.push({ valSize, requestsPerSecond: r.requestsPerSecond, p99Ms: r.p99Ms, serverCpuMicrosPerOp: r.serverCpuMicrosPerOp, peakRssBytes: r.peakRssMB * 2 ** 20 });
      say(`put ${valSize} B values: ${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(1)} ms, ${r.serverCpuMicrosPerOp.toFixed(0)} µs CPU/op`);
    }
    return { label, load, range, watchers, restart, compaction, history, puts };
  } finally {
    client.close();
  }
}
