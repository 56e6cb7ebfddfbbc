/**
 * Measures how long a server stops answering while something heavy runs: a serializable Range every `intervalMs`
 * on its own connection, one at a time; the result is the longest time between two consecutive answers (or from the
 * start to the first, or from the last to the end). A member whose event loop is blocked sends no Raft heartbeats
 * either, so for our single-threaded server this gap bounds the longest heartbeat gap; for etcd it is the longest
 * stall a client sees (its heartbeats are sent by another goroutine).
 */
import { ScaleClient } from "./client.ts";

const utf8 = new TextEncoder();

/** A running probe; stop() resolves with its figures. */
export interface GapProbe {
  /** Stops probing; resolves with the longest gap and the number of answers, in ms. */
  stop(): Promise<{ longestGapMs: number; answers: number }>;
}

/** Starts probing `endpoint` every `intervalMs` (default 10 ms). */
export function startGapProbe(endpoint: string, intervalMs = 10): GapProbe {
  const client = new ScaleClient(endpoint);
  let running = true;
  let last = performance.now();
  let longest = 0;
  let answers = 0;
  const loop = (async () => {
    while (running) {
      await client.kv.range({ key: utf8.encode("scale-gap-probe"), serializable: true }).catch(() => undefined);
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      answers++;
      await Bun.sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      client.close();
      return { longestGapMs: longest, answers };
    },
  };
}
