/**
 * Load process of the benchmark's `watch` mode (started by scripts/bench/watch.ts, one run per slice; not meant to
 * be run by hand): opens `streams` Watch streams (one HTTP/2 connection each) with `watchers / streams` watchers on
 * one prefix, then puts keys under that prefix at a fixed rate (open loop) for `seconds`, and times every event from
 * the moment its put was sent until a watcher received it. Prints one JSON {@link WatchSliceResult} on stdout.
 *
 *   bun scripts/bench/watch-load.ts '<WatchSliceConfig as JSON>'
 */
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV, Watch, WatchRequestSchema, type WatchRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { RequestQueue } from "../../cli/request-queue.ts";
import { Histogram } from "./histogram.ts";

/** What one slice does. */
export interface WatchSliceConfig {
  endpoint: string;
  /** Total watchers, spread evenly over the streams. */
  watchers: number;
  streams: number;
  /** Puts per second. */
  rate: number;
  /** How long puts are made, in seconds. */
  seconds: number;
  /** Value size in bytes. */
  valSize: number;
  /** Key prefix of this slice (fresh per slice so watchers see only this slice's puts). */
  prefix: string;
  /** How long to wait for the last events after the last put, in ms. */
  drainMs: number;
}

/** What one slice measured. Times in ms. */
export interface WatchSliceResult {
  puts: number;
  putErrors: number;
  /** puts × watchers. */
  expectedEvents: number;
  receivedEvents: number;
  /** From the first put sent to the last event received. */
  elapsedMs: number;
  /** Put→event latency histogram counts (see histogram.ts). */
  histogram: number[];
  /** CPU (user + system) of this process, in µs. */
  loadCpuMicros: number;
}

const encoder = new TextEncoder();

/** Runs one slice; see the module doc. */
async function runSlice(c: WatchSliceConfig): Promise<WatchSliceResult> {
  const cpu0 = process.cpuUsage();
  const total = Math.round(c.rate * c.seconds);
  const sentAt = new Float64Array(total);
  const histogram = new Histogram();
  const prefix = encoder.encode(c.prefix);
  const rangeEnd = prefix.slice();
  rangeEnd[rangeEnd.length - 1]! += 1;
  const ac = new AbortController();
  let created = 0;
  let received = 0;
  let lastReceived = 0;
  const keyStart = prefix.length;

  const streams = Array.from({ length: c.streams }, (_, s) => {
    const queue = new RequestQueue<WatchRequest>();
    const perStream = Math.floor(c.watchers / c.streams) + (s < c.watchers % c.streams ? 1 : 0);
    for (let i = 0; i < perStream; i++) {
      queue.push(create(WatchRequestSchema, { requestUnion: { case: "createRequest", value: { key: prefix, rangeEnd } } }));
    }
    const client = createClient(Watch, createGrpcTransport({ baseUrl: c.endpoint, readMaxBytes: 64 << 20 }));
    return (async () => {
      for await (const r of client.watch(queue, { signal: ac.signal })) {
        if (r.created) created++;
        const now = performance.now();
        for (const ev of r.events) {
          const k = ev.kv!.key;
          let seq = 0;
          for (let i = keyStart; i < k.length; i++) seq = seq * 10 + (k[i]! - 48);
          histogram.record(now - sentAt[seq]!);
          received++;
          lastReceived = now;
        }
      }
    })().catch((e) => {
      if (!ac.signal.aborted) throw e;
    });
  });

  const until = async (done: () => boolean, ms: number) => {
    const deadline = performance.now() + ms;
    while (!done() && performance.now() < deadline) await Bun.sleep(1);
  };
  await until(() => created >= c.watchers, 60_000);
  if (created < c.watchers) throw new Error(`only ${created} of ${c.watchers} watchers created`);

  const kv = createClient(KV, createGrpcTransport({ baseUrl: c.endpoint }));
  const value = new Uint8Array(c.valSize).fill(120);
  let putErrors = 0;
  const inflight: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / c.rate;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    sentAt[i] = performance.now();
    inflight.push(kv.put({ key: encoder.encode(c.prefix + i), value }).catch(() => putErrors++));
  }
  await Promise.all(inflight);
  const expected = total * c.watchers;
  await until(() => received >= expected, c.drainMs);
  ac.abort();
  await Promise.all(streams);
  const cpu = process.cpuUsage(cpu0);
  return {
    puts: total,
    putErrors,
    expectedEvents: expected,
    receivedEvents: received,
    elapsedMs: lastReceived - t0,
    histogram: Array.from(histogram.counts),
    loadCpuMicros: cpu.user + cpu.system,
  };
}

if (import.meta.main) {
  const config = JSON.parse(process.argv[2] ?? "{}") as WatchSliceConfig;
  runSlice(config).then(
    (r) => {
      process.stdout.write(JSON.stringify(r));
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`watch-load: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
