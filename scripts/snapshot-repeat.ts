/**
 * Repeated snapshot saves on filled servers, alternating between them (issue 8):
 *
 *   npx bun scripts/snapshot-repeat.ts [--size-mib 32] [--value-kib 64] [--saves 5] [--servers etcd=/usr/bin/etcd,ours=dist/etcd] [--security none|auth] [--perf perf.data] [--json]
 *
 * Starts every server of `--servers` (label=binary, comma separated) on free loopback ports,
 * fills each with `--size-mib` MiB of values in distinct keys, then runs `--saves` rounds; in
 * each round every server is saved once with the Go `etcdctl snapshot save`, in the order given
 * (so the servers alternate). Reports per save: wall time (s), MiB/s, and the server's CPU time
 * (user + system of its process tree, ms, clock-tick resolution) during the save; then each
 * server's median and its ratio of MiB/s to the first server's. The first save of each server
 * is a cold one (the code's first run), as in scripts/snapshot-defrag-bench.ts.
 * With `--security auth` the servers run with auth enabled and etcdctl saves as root, which adds
 * an Authenticate call (etcdctl 3.4 makes it on a connection of its own, clientv3 `getToken`). `--perf <file>`
 * runs `perf record -g` on the last server of the list during the saves.
 * It kills only the processes it started (by PID) and removes its temp dirs, also on errors.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { installCleanupHandlers } from "./bench/cleanup.ts";
import { backendBenchFlags, fillBackend, GO_ETCDCTL } from "./bench/backend-ops.ts";
import { RunningServer } from "./bench/server.ts";
import { ROOT_PASSWORD, type Security } from "./bench/security.ts";

const MIB = 1024 * 1024;

/** One save: seconds, bytes, CPU ms of the server during it. */
interface Save {
  server: string;
  round: number;
  seconds: number;
  fileBytes: number;
  cpuMs: number;
}

/** Saves a snapshot of `server` to `path` with the Go etcdctl (as root with auth). */
async function save(server: RunningServer, path: string, round: number): Promise<Save> {
  const cpu0 = server.cpuMicros();
  const t0 = performance.now();
  const user = server.access.user ? [`--user=root:${ROOT_PASSWORD}`] : [];
  const proc = Bun.spawn([GO_ETCDCTL, `--endpoints=${server.endpoint}`, ...user, "snapshot", "save", path], {
    env: { ...process.env, ETCDCTL_API: "3" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = (server.cpuMicros() - cpu0) / 1000;
  if (code !== 0) throw new Error(`etcdctl snapshot save against ${server.spec.label} exited ${code}: ${out}${err}`);
  return { server: server.spec.label, round, seconds, fileBytes: statSync(path).size, cpuMs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

if (import.meta.main) {
  const { sizeMib, valueKib, json, options } = backendBenchFlags("snapshot-repeat", { sizeMib: 32, valueKib: 64 }, (cli) => {
    cli.option("--saves <n>", "rounds of saves", { default: 5 });
    cli.option("--servers <list>", "label=binary,... saved in this order every round", { default: "etcd=/usr/bin/etcd,ours=dist/etcd" });
    cli.option("--security <mode>", "none or auth", { default: "none" });
    cli.option("--perf <file>", "record `perf record -g` of the last server during the saves into <file>");
  });
  installCleanupHandlers();
  const rounds = Number(options.saves);
  const security = String(options.security) as Security;
  const specs = String(options.servers)
    .split(",")
    .map((s) => {
      const [label, binary] = s.split("=");
      return { label: label!, binary: binary!, security };
    });
  const servers: RunningServer[] = [];
  const saves: Save[] = [];
  try {
    const keys = Math.ceil((sizeMib * MIB) / (valueKib * 1024));
    for (const spec of specs) {
      const server = await RunningServer.start(spec);
      servers.push(server);
      console.error(`[${spec.label}] writing ${keys} keys of ${valueKib} KiB`);
      await fillBackend(server, keys, valueKib * 1024);
    }
    const perf = options.perf
      ? Bun.spawn(["perf", "record", "-F", "2000", "-g", "-p", String(servers.at(-1)!.pid), "-o", String(options.perf)], { stdout: "inherit", stderr: "inherit" })
      : undefined;
    if (perf) await Bun.sleep(500);
    for (let round = 1; round <= rounds; round++) {
      for (const server of servers) {
        const s = await save(server, join(server.tempDir, `snap-${round}.db`), round);
        console.error(`[${s.server}] save ${round}: ${s.seconds.toFixed(3)} s, ${(s.fileBytes / MIB / s.seconds).toFixed(1)} MiB/s, cpu ${s.cpuMs.toFixed(0)} ms`);
        saves.push(s);
      }
    }
    if (perf) {
      perf.kill("SIGINT");
      await perf.exited;
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  const mibps = (s: Save) => s.fileBytes / MIB / s.seconds;
  const summary = specs.map((spec) => {
    const mine = saves.filter((s) => s.server === spec.label);
    return { server: spec.label, medianSeconds: median(mine.map((s) => s.seconds)), medianMibPerSecond: median(mine.map(mibps)), medianCpuMs: median(mine.map((s) => s.cpuMs)) };
  });
  if (json) {
    console.log(JSON.stringify({ saves, summary }, null, 2));
  } else {
    const first = summary[0]!;
    console.log("| server | saves s | median s | median MiB/s | / " + first.server + " | median CPU ms |");
    console.log("|---|---|---|---|---|---|");
    for (const m of summary) {
      const all = saves.filter((s) => s.server === m.server).map((s) => s.seconds.toFixed(2)).join(", ");
      console.log(`| ${m.server} | ${all} | ${m.medianSeconds.toFixed(2)} | ${m.medianMibPerSecond.toFixed(1)} | ${(m.medianMibPerSecond / first.medianMibPerSecond).toFixed(2)}× | ${m.medianCpuMs.toFixed(0)} |`);
    }
  }
}
