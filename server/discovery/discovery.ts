/**
 * etcd 3.4's v2 discovery protocol (`etcdserver/api/v2discovery/discovery.go` JoinCluster): a
 * new member registers `name=peerURL` under `<token>/<member-id>` on another cluster's v2 keys
 * API, then waits until `<token>/_config/size` members are registered and bootstraps from the
 * first `size` of them (by creation index). Errors keep etcd's texts:
 * `discovery: cluster is full`, `discovery: found duplicate id`, `discovery: found duplicate name`,
 * `discovery: size key is bad`, `discovery: bad discovery endpoint`, `discovery: invalid URL`;
 * a missing size key (an unknown token) is the v2 error itself, `100: Key not found
 * (/<token>/_config/size) [<index>]`, as etcd 3.4 reports it. Unreachable discovery servers are
 * retried with etcd's backoff (2 s doubling to 256 s).
 *
 * The discovery URL's path is the whole key path (`/v2/keys/...`), so requests use no prefix.
 * The v2 HTTP client is etcdctl's (cli/v2/client.ts, keys.ts): the same Go client semantics.
 */
import { goPathClean, V2Client, ClusterError, V2ClientError } from "../../cli/v2/client.ts";
import { V2KeysError, getRequest, keysResponse, setRequest, V2Watcher, type V2Node } from "../../cli/v2/keys.ts";
import { goParseUrl } from "../../cli/go/url.ts";

/** etcd's DiscoveryError: `failed to <op> discovery cluster (<err>)`. */
export class DiscoveryError extends Error {
  constructor(
    readonly op: string,
    readonly cause: Error,
  ) {
    super(`failed to ${op} discovery cluster (${cause.message})`);
  }
}

export const ErrFullCluster = "discovery: cluster is full";
export const ErrDuplicateId = "discovery: found duplicate id";
export const ErrDuplicateName = "discovery: found duplicate name";
const ErrBadSizeKey = "discovery: size key is bad";
const ErrInvalidUrl = "discovery: invalid URL";
const ErrBadDiscoveryEndpoint = "discovery: bad discovery endpoint";

/** etcd's client.DefaultRequestTimeout. */
const REQUEST_TIMEOUT_MS = 5000;
const MAX_EXPONENTIAL_RETRIES = 8;

/** Log sink (the member's zap-style logger). */
export interface DiscoveryLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Where and how to reach the discovery service. */
export interface DiscoveryTarget {
  /** `--discovery`, e.g. `http://127.0.0.1:2379/v2/keys/discovery/<token>`. */
  url: string;
  /** `--discovery-proxy` (empty: none). */
  proxy: string;
}

class Discovery {
  private retries = 0;
  private readonly client: V2Client;
  /** The token path, e.g. `/v2/keys/discovery/6c007a14875d53d9bf0ef5a6fc0257c8`. */
  private readonly cluster: string;
  private readonly base: string;

  constructor(
    target: DiscoveryTarget,
    private readonly id: string,
    private readonly log: DiscoveryLog,
    private readonly sleepMs: (ms: number) => Promise<void>,
  ) {
    const u = goParseUrl(target.url);
    this.cluster = u.path;
    this.base = `${u.scheme}://${u.host}`;
    let proxy: string | undefined;
    if (target.proxy) {
      proxy = target.proxy.startsWith("http") ? target.proxy : `http://${target.proxy}`;
      log.info("running proxy with discovery", { "proxy-url": proxy });
    }
    this.client = new V2Client({ endpoints: [this.base], headerTimeoutMs: 0, tls: {}, proxy });
  }

  private selfKey(): string {
    return goPathClean(`/${this.cluster}/${this.id}`);
  }

  /** A request against the keys API rooted at the URL's host (NewKeysAPIWithPrefix(c, "")). */
  private async get(key: string, recursive = false) {
    return keysResponse(await this.client.do(getRequest(key, { recursive }, ""), Date.now() + REQUEST_TIMEOUT_MS));
  }

  private async backoff(step: string): Promise<void> {
    this.retries++;
    const seconds = 2 ** Math.min(this.retries, MAX_EXPONENTIAL_RETRIES);
    this.log.info("retry connecting to discovery service", { url: this.base + this.cluster, reason: step, backoff: `${seconds}s` });
    await this.sleepMs(seconds * 1000);
  }

  /** checkCluster: the registered nodes (sorted by creation), the size, the index; ErrFullCluster when self would not fit. */
  async checkCluster(): Promise<{ nodes: V2Node[]; size: number; index: number; full: boolean }> {
    const configKey = goPathClean(`/${this.cluster}/_config`);
    let sizeValue: string;
    try {
      sizeValue = (await this.get(`${configKey}/size`)).node!.value;
    } catch (e) {
      if (e instanceof ClusterError) return this.retryCheck(e, `${configKey}/size`);
      if (e instanceof V2ClientError && /invalid json/.test(e.message)) throw new Error(ErrBadDiscoveryEndpoint);
      throw e;
    }
    if (!/^\d+$/.test(sizeValue)) throw new Error(ErrBadSizeKey);
    const size = Number(sizeValue);
    let resp;
    try {
      resp = await this.get(this.cluster);
    } catch (e) {
      if (e instanceof ClusterError) return this.retryCheck(e, this.cluster);
      throw e;
    }
    const nodes = (resp.node?.nodes ?? []).filter((n) => basename(n.key) !== "_config").sort((a, b) => a.createdIndex - b.createdIndex);
    for (let i = 0; i < nodes.length; i++) {
      if (basename(nodes[i]!.key) === basename(this.selfKey())) break;
      if (i >= size - 1) return { nodes: nodes.slice(0, size), size, index: resp.index, full: true };
    }
    return { nodes, size, index: resp.index, full: false };
  }

  private async retryCheck(e: ClusterError, path: string): ReturnType<Discovery["checkCluster"]> {
    this.log.warn("failed to get from discovery server", { "discovery-url": this.base + this.cluster, path, error: e.message, "err-detail": e.detail() });
    await this.backoff("cluster status check");
    return this.checkCluster();
  }

  /** createSelf: registers `contents` under the member's key (create-only) and waits to see it. */
  async createSelf(contents: string): Promise<void> {
    let created;
    try {
      created = keysResponse(await this.client.do(setRequest(this.selfKey(), contents, { prevExist: "false" }, ""), Date.now() + REQUEST_TIMEOUT_MS));
    } catch (e) {
      if (e instanceof V2KeysError && e.errorCode === 105) throw new Error(ErrDuplicateId);
      throw e;
    }
    await new V2Watcher(this.client, this.selfKey(), created.node!.createdIndex - 1, false, "").next();
  }

  /** waitNodes: watches the token until `size` members are registered. */
  async waitNodes(nodes: V2Node[], size: number, index: number): Promise<V2Node[]> {
    const all = nodes.slice(0, size);
    for (const n of all) {
      if (basename(n.key) === basename(this.selfKey())) this.log.info("found self from discovery server", { "discovery-url": this.base + this.cluster, self: basename(this.selfKey()) });
      else this.log.info("found peer from discovery server", { "discovery-url": this.base + this.cluster, peer: basename(n.key) });
    }
    const w = new V2Watcher(this.client, this.cluster, index, true, "");
    while (all.length < size) {
      this.log.info("found peers from discovery server; waiting for more", { "discovery-url": this.base + this.cluster, "found-peers": all.length, "needed-peers": size - all.length });
      let resp;
      try {
        resp = await w.next();
      } catch (e) {
        if (!(e instanceof ClusterError)) throw e;
        await this.backoff("waiting for other nodes");
        const again = await this.checkCluster();
        if (again.full) throw new Error(ErrFullCluster);
        return this.waitNodes(again.nodes, again.size, again.index);
      }
      this.log.info("found peer from discovery server", { "discovery-url": this.base + this.cluster, peer: basename(resp.node!.key) });
      all.push(resp.node!);
    }
    this.log.info("found all needed peers from discovery server", { "discovery-url": this.base + this.cluster, "found-peers": all.length });
    return all;
  }
}

function basename(p: string): string {
  const parts = p.split("/").filter(Boolean);
  return parts[parts.length - 1] ?? "/";
}

/** nodesToCluster: `name=url,...` of the registered members; errors for bad or duplicate names. */
function nodesToCluster(nodes: V2Node[], size: number): string {
  const s = nodes.map((n) => n.value).join(",");
  const names = new Set<string>();
  for (const item of s.split(",")) {
    const eq = item.indexOf("=");
    if (eq < 0) throw new Error(ErrInvalidUrl);
    try {
      const u = goParseUrl(item.slice(eq + 1));
      if (!["http", "https", "unix", "unixs"].includes(u.scheme)) throw new Error("scheme");
    } catch {
      throw new Error(ErrInvalidUrl);
    }
    names.add(item.slice(0, eq));
  }
  if (names.size !== size) throw new Error(ErrDuplicateName);
  return s;
}

/**
 * JoinCluster: registers `self` (`name=peerURL,...`) as member `idHex` and returns the
 * `--initial-cluster` string of the discovered cluster.
 * @throws DiscoveryError `failed to join discovery cluster (<reason>)`
 */
export async function joinDiscoveryCluster(
  target: DiscoveryTarget,
  idHex: string,
  self: string,
  log: DiscoveryLog,
  sleepMs: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<string> {
  try {
    const d = new Discovery(target, idHex, log, sleepMs);
    if ((await d.checkCluster()).full) throw new Error(ErrFullCluster);
    await d.createSelf(self);
    const { nodes, size, index, full } = await d.checkCluster();
    if (full) throw new Error(ErrFullCluster);
    return nodesToCluster(await d.waitNodes(nodes, size, index), size);
  } catch (e) {
    throw new DiscoveryError("join", e instanceof Error ? e : new Error(String(e)));
  }
}
