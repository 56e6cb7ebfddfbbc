/**
 * The container files in scripts/container/, tested without a container engine: the image's
 * command line and environment (from the Dockerfile's final stage) and each service of the two
 * compose files (parsed with `yaml`) are run as they would run in the containers, against the
 * release binaries in place of /usr/local/bin/etcd and /usr/local/bin/etcdctl, with loopback
 * addresses and free ports in place of service names and 0.0.0.0:2379/2380, and a temp dir in
 * place of /etcd-data. Each member must serve: the compose healthcheck command passes, writes on
 * one member are read on the others, the cluster has the members the file names. Passes with
 * E2E_ETCD_BIN=/usr/bin/etcd.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { cleanup, etcdBin, type EtcdProcess, freePort, makeTempDir, ourEtcdctlBin, REPO_ROOT, run, startEtcd } from "./harness.ts";

setDefaultTimeout(90_000);
afterAll(cleanup);

const DIR = join(REPO_ROOT, "scripts", "container");
const DATA_DIR = "/etcd-data";
const BINARIES: Record<string, () => string> = { "/usr/local/bin/etcd": etcdBin, "/usr/local/bin/etcdctl": ourEtcdctlBin };

/** What the image runs: the final stage's ENV, CMD and the files it copies in. */
interface Image {
  env: Record<string, string>;
  cmd: string[];
  copies: string[];
  volumes: string[];
  buildSteps: string[];
}

/** Reads the Dockerfile (one instruction per line after joining `\` continuations). */
function readImage(): Image {
  const lines = readFileSync(join(DIR, "Dockerfile"), "utf8").replace(/\\\n/g, " ").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
  const stages: string[][] = [];
  for (const l of lines) {
    if (/^FROM /i.test(l)) stages.push([]);
    stages.at(-1)!.push(l);
  }
  const final = stages.at(-1)!;
  const image: Image = { env: {}, cmd: [], copies: [], volumes: [], buildSteps: stages.slice(0, -1).flat().filter((l) => /^RUN /i.test(l)) };
  for (const l of final) {
    const [op, ...rest] = l.split(/\s+/);
    const arg = rest.join(" ");
    if (/^ENV$/i.test(op!)) for (const m of arg.matchAll(/(\w+)=(\S+)/g)) image.env[m[1]!] = m[2]!;
    if (/^CMD$/i.test(op!)) image.cmd = JSON.parse(arg);
    if (/^COPY$/i.test(op!)) image.copies.push(rest.at(-1)!);
    if (/^VOLUME$/i.test(op!)) image.volumes.push(...rest);
  }
  return image;
}

/** A compose service as it would be started: command and environment (image's, then the service's). */
interface Service {
  name: string;
  command: string[];
  env: Record<string, string>;
  healthcheck: string[];
  build: { context: string; dockerfile: string };
}

function readCompose(file: string, image: Image): Service[] {
  const doc = parse(readFileSync(join(DIR, file), "utf8"), { merge: true }) as {
    services: Record<string, { environment: Record<string, string>; command?: string[]; healthcheck: { test: string[] }; build: { context: string; dockerfile: string } }>;
  };
  return Object.entries(doc.services).map(([name, s]) => ({
    name,
    command: s.command ?? image.cmd,
    env: { ...image.env, ...Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, String(v)])) },
    healthcheck: s.healthcheck.test.slice(1),
    build: s.build,
  }));
}

interface Ports {
  client: number;
  peer: number;
}

/**
 * Replaces what only exists in the containers: service names and the wildcard and localhost
 * addresses (by the loopback address and the member's own ports), /etcd-data (by `dataDir`).
 */
function localize(value: string, self: Ports, ports: Map<string, Ports>, dataDir: string): string {
  let v = value.replaceAll("0.0.0.0:2379", `127.0.0.1:${self.client}`).replaceAll("0.0.0.0:2380", `127.0.0.1:${self.peer}`);
  v = v.replaceAll("localhost:2379", `127.0.0.1:${self.client}`);
  for (const [name, p] of ports) v = v.replaceAll(`//${name}:2379`, `//127.0.0.1:${p.client}`).replaceAll(`//${name}:2380`, `//127.0.0.1:${p.peer}`);
  return v === DATA_DIR ? dataDir : v;
}

/** Starts every service as compose would; resolves once all are healthy. */
async function startServices(services: Service[]): Promise<{ procs: EtcdProcess[]; ports: Map<string, Ports> }> {
  const ports = new Map<string, Ports>();
  for (const s of services) ports.set(s.name, { client: await freePort(), peer: await freePort() });
  const procs = await Promise.all(
    services.map((s) => {
      const self = ports.get(s.name)!;
      const dataDir = join(makeTempDir(`container-${s.name}`), "etcd-data");
      const env = Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, localize(v, self, ports, dataDir)]));
      const [bin, ...args] = s.command;
      return startEtcd({ name: s.name, standardFlags: false, bin: BINARIES[bin!]!(), extraArgs: args.map((a) => localize(a, self, ports, dataDir)), env, clientPort: self.client, dataDir, cwd: resolve(dataDir, "..") });
    }),
  );
  return { procs, ports };
}

/** Runs a service's healthcheck command against its member (inside the container etcdctl's default 127.0.0.1:2379 is the member). */
async function healthcheck(s: Service, p: Ports): Promise<void> {
  const [bin, ...args] = s.healthcheck;
  const r = await run([BINARIES[bin!]!(), ...args], { env: { ETCDCTL_ENDPOINTS: `127.0.0.1:${p.client}` } });
  // etcdctl 3.4 prints the health line on stderr.
  expect([r.code, r.stderr.split("\n")[0]]).toEqual([0, expect.stringMatching(/^127\.0\.0\.1:\d+ is healthy: successfully committed proposal: took = /)]);
}

const image = readImage();

describe("Dockerfile", () => {
  test("builds the release with npm and bun, ships both binaries in /usr/local/bin, data in /etcd-data", () => {
    expect(image.buildSteps.some((s) => /npm (ci|install)/.test(s))).toBe(true);
    expect(image.buildSteps.some((s) => /bun run build/.test(s))).toBe(true);
    expect(image.copies).toEqual(["/usr/local/bin/etcd", "/usr/local/bin/etcdctl"]);
    expect(image.env.ETCD_DATA_DIR).toBe(DATA_DIR);
    expect(image.volumes).toEqual([DATA_DIR]);
    expect(image.cmd).toEqual(["/usr/local/bin/etcd"]);
  });

  test("docker run -e ETCD_...: the image's command and environment serve a member with its data in /etcd-data", async () => {
    const self = { client: await freePort(), peer: await freePort() };
    const dataDir = join(makeTempDir("container-run"), "etcd-data");
    // As `docker run -p 2379:2379 -e ETCD_NAME=s1 -e ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 ... etcd-ts`.
    const runEnv: Record<string, string> = {
      ETCD_NAME: "s1",
      ETCD_LISTEN_CLIENT_URLS: "http://0.0.0.0:2379",
      ETCD_ADVERTISE_CLIENT_URLS: "http://localhost:2379",
      ETCD_LISTEN_PEER_URLS: "http://0.0.0.0:2380",
      ETCD_INITIAL_ADVERTISE_PEER_URLS: "http://0.0.0.0:2380",
      ETCD_INITIAL_CLUSTER: "s1=http://0.0.0.0:2380",
    };
    const env = Object.fromEntries(Object.entries({ ...image.env, ...runEnv }).map(([k, v]) => [k, localize(v, self, new Map(), dataDir)]));
    const etcd = await startEtcd({ name: "s1", standardFlags: false, bin: BINARIES[image.cmd[0]!]!(), extraArgs: image.cmd.slice(1), env, clientPort: self.client, cwd: resolve(dataDir, "..") });
    const put = await run([ourEtcdctlBin(), `--endpoints=127.0.0.1:${self.client}`, "put", "k", "v"]);
    expect(put.stdout).toBe("OK\n");
    expect(existsSync(join(dataDir, "member"))).toBe(true);
    await etcd.stop();
  });
});

describe("docker-compose.yml (one member)", () => {
  const services = readCompose("docker-compose.yml", image);

  test("builds this Dockerfile from the repository root", () => {
    expect(services.map((s) => s.name)).toEqual(["etcd"]);
    expect(resolve(DIR, services[0]!.build.context)).toBe(REPO_ROOT);
    expect(existsSync(resolve(DIR, services[0]!.build.context, services[0]!.build.dockerfile))).toBe(true);
  });

  test("the service's command and environment serve; the healthcheck passes", async () => {
    const { procs, ports } = await startServices(services);
    await healthcheck(services[0]!, ports.get("etcd")!);
    const put = await run([ourEtcdctlBin(), `--endpoints=127.0.0.1:${ports.get("etcd")!.client}`, "put", "a", "1"]);
    expect(put.stdout).toBe("OK\n");
    expect(existsSync(join(procs[0]!.dataDir, "member"))).toBe(true);
    await Promise.all(procs.map((p) => p.stop()));
  });
});

describe("docker-compose.cluster.yml (three members)", () => {
  const services = readCompose("docker-compose.cluster.yml", image);

  test("three services built from this Dockerfile, one initial cluster", () => {
    expect(services.map((s) => s.name)).toEqual(["etcd1", "etcd2", "etcd3"]);
    for (const s of services) {
      expect(resolve(DIR, s.build.context, s.build.dockerfile)).toBe(join(DIR, "Dockerfile"));
      expect(s.env.ETCD_INITIAL_CLUSTER).toBe(services[0]!.env.ETCD_INITIAL_CLUSTER);
      expect(s.env.ETCD_NAME).toBe(s.name);
    }
  });

  test("the members form one cluster: healthchecks pass, a write on one is read on the others", async () => {
    const { procs, ports } = await startServices(services);
    for (const s of services) await healthcheck(s, ports.get(s.name)!);
    const at = (name: string) => `--endpoints=127.0.0.1:${ports.get(name)!.client}`;
    expect((await run([ourEtcdctlBin(), at("etcd1"), "put", "shared", "x"])).stdout).toBe("OK\n");
    for (const name of ["etcd2", "etcd3"]) {
      expect((await run([ourEtcdctlBin(), at(name), "get", "shared", "--print-value-only"])).stdout).toBe("x\n");
    }
    const members = await run([ourEtcdctlBin(), at("etcd2"), "member", "list"]);
    expect(members.stdout.split("\n").filter((l) => l !== "").map((l) => l.split(", ")[2]).sort()).toEqual(["etcd1", "etcd2", "etcd3"]);
    await Promise.all(procs.map((p) => p.stop()));
  });
});
