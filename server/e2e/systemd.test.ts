/**
 * systemd readiness (`Type=notify`): with `NOTIFY_SOCKET` set, the server sends `READY=1` to that
 * unix datagram socket once it serves clients, as etcd's notifySystemd does, and not before: a
 * member of a two-member cluster whose peer is down never gets ready; once the peer starts, both
 * send `READY=1` and serve a put. The socket is bound by socat (Debian's `socat`, installed by
 * .ci/run). Runs unchanged against real etcd 3.4 (`E2E_ETCD_BIN=/usr/bin/etcd`).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bytes, grpcClients } from "./clients.ts";
import { cleanup, freePort, httpGet, makeTempDir, startEtcd, type EtcdProcess } from "./harness.ts";

setDefaultTimeout(60_000);
const receivers: number[] = [];
afterAll(async () => {
  for (const pid of receivers) process.kill(pid, "SIGTERM");
  await cleanup();
});

/** Binds a unix datagram socket at `path` with socat; returns what it has received so far. */
async function notifySocket(path: string): Promise<() => string> {
  const proc = spawn("socat", ["-u", `UNIX-RECV:${path}`, "STDOUT"]);
  receivers.push(proc.pid!);
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200 && !existsSync(path); i++) await Bun.sleep(10);
  expect(existsSync(path)).toBe(true);
  return () => out;
}

test("READY=1 is sent once the member serves clients, not while it waits for a quorum", async () => {
  const dir = makeTempDir("systemd");
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const peer = (i: number) => `http://127.0.0.1:${ports[2 + i]}`;
  const initialCluster = `a=${peer(0)},b=${peer(1)}`;
  const received = [await notifySocket(join(dir, "a.sock")), await notifySocket(join(dir, "b.sock"))];
  const start = (i: number): Promise<EtcdProcess> => {
    const name = ["a", "b"][i]!;
    const client = `http://127.0.0.1:${ports[i]}`;
    return startEtcd({
      name,
      standardFlags: false,
      dataDir: join(dir, `${name}.etcd`),
      clientPort: ports[i],
      peerPort: ports[2 + i],
      waitReady: false,
      env: { NOTIFY_SOCKET: join(dir, `${name}.sock`) },
      extraArgs: [
        "--name", name,
        "--data-dir", join(dir, `${name}.etcd`),
        "--listen-client-urls", client,
        "--advertise-client-urls", client,
        "--listen-peer-urls", peer(i),
        "--initial-advertise-peer-urls", peer(i),
        "--initial-cluster", initialCluster,
      ],
    });
  };
  const a = await start(0);
  // Alone, a has no quorum: it must not report ready (nor serve) however long it waits.
  await Bun.sleep(3_000);
  expect(a.proc.exitCode).toBeNull();
  expect(received[0]!()).toBe("");
  const b = await start(1);
  for (let i = 0; i < 300 && (received[0]!() === "" || received[1]!() === ""); i++) await Bun.sleep(50);
  expect(received.map((r) => r())).toEqual(["READY=1", "READY=1"]);
  // Ready means serving: a put answers at once on both.
  for (const p of [a, b]) {
    await grpcClients(p.endpoint).kv.put({ key: bytes("ready"), value: bytes(p.name) });
    expect((await httpGet(p.endpoint, "/health", 5_000)).status).toBe(200);
  }
});

test("without NOTIFY_SOCKET the server starts as usual", async () => {
  const p = await startEtcd({ env: { NOTIFY_SOCKET: undefined } });
  expect((await httpGet(p.endpoint, "/health")).status).toBe(200);
});
