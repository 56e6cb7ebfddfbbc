/**
 * etcd's v2 keys store (etcdserver/api/v2store/store.go, node.go): a tree of directories and
 * files, each with created/modified indexes and an optional expiry time, and a store index that
 * every successful write advances by one. Paths are the client's keys (`/foo`); etcd keeps them
 * under its `/1` namespace and strips that prefix from answers, which this store never adds.
 *
 * Writes happen only when a replicated request is applied (server/v2store/apply.ts), on every
 * member alike; each change is also written through {@link V2Persistence} inside the apply
 * transaction. TTL expiry is not decided here: the leader proposes a SYNC with its clock and
 * {@link V2Store.deleteExpiredKeys} runs when that entry is applied. Reads (`get`, `watch`) are
 * local. Errors are V2Errors carrying etcd's code, cause and the store index.
 */
import { V2Code, V2Error } from "./errors.ts";
import type { NodeExtern, V2Action, V2Event } from "./event.ts";
import { V2Stats, type StatName } from "./stats.ts";
import type { V2Persistence, V2Row, V2State } from "./tables.ts";
import { WatcherHub, type V2Watcher } from "./watcher-hub.ts";
import { cleanPath, joinPath, splitPath } from "./path.ts";

/** etcd treats expiry times before 2000-01-01 as permanent (minExpireTime), epoch ms. */
const MIN_EXPIRE_MS = Date.UTC(2000, 0, 1);

/** A directory or a file of the tree. */
class V2Node {
  /** Children by name, for a directory; undefined for a file. */
  children: Map<string, V2Node> | undefined;

  constructor(
    readonly path: string,
    /** The last component of `path` ("" for the root). */
    readonly name: string,
    public createdIndex: number,
    public modifiedIndex: number,
    public parent: V2Node | undefined,
    /** Epoch ms; 0: permanent. */
    public expireMs: number,
    public value: string,
    dir: boolean,
  ) {
    if (dir) this.children = new Map();
  }

  get isDir(): boolean {
    return this.children !== undefined;
  }

  get isHidden(): boolean {
    return this.name.startsWith("_");
  }

  row(): V2Row {
    const { path, createdIndex, modifiedIndex, expireMs, value } = this;
    return { path, dir: this.isDir, value: this.isDir ? "" : value, createdIndex, modifiedIndex, expireMs };
  }
}

/** TTL options of a write (etcd's TTLOptionSet): expiry time (epoch ms, 0: none) and refresh. */
export interface TtlOptions {
  expireMs: number;
  refresh?: boolean;
}

/** The v2 store of one member. `nowMs`: the wall clock used to compute `ttl` in answers. */
export class V2Store {
  private root!: V2Node;
  /** The store index (etcd's CurrentIndex). */
  index = 0;
  readonly hub: WatcherHub;
  readonly stats = new V2Stats();
  /** `etcd_debugging_store_*` counters (etcd's v2store/metrics.go): reads and writes by action, expiries, watch requests. */
  readonly metrics = { reads: new Map<string, number>(), writes: new Map<string, number>(), expires: 0, watchRequests: 0 };
  /** Whether {@link recordClusterVersion} has counted etcd's `/0/version` record. */
  clusterVersionRecorded = false;
  /** Nodes with an expiry time (etcd's ttlKeyHeap; scanned in expiry order when a SYNC applies). */
  private readonly ttlNodes = new Set<V2Node>();

  constructor(
    private readonly nowMs: () => number,
    private readonly persist?: V2Persistence,
  ) {
    this.hub = new WatcherHub(persist && ((e) => persist.addEvent(e)));
    this.reset();
  }

  private reset(): void {
    this.root = new V2Node("/", "", 0, 0, undefined, 0, "", true);
    this.index = 0;
    this.ttlNodes.clear();
  }

  /**
   * Replaces the whole tree and the event history with `state`: at start-up and after a snapshot
   * (etcd's store.Recovery). Watchers are kept. `replayed` (start-up): the events' `ttl` fields
   * are computed again with the clock now, as etcd's are when it applies its WAL entries again
   * at start-up; without it (a received snapshot) they stay as recorded, as in etcd's snapshot.
   */
  load(state: V2State, replayed = false): void {
    const { rows, index, events } = state;
    this.reset();
    this.index = index;
    this.clusterVersionRecorded = state.clusterVersionRecorded;
    if (replayed) {
      for (const e of events) {
        for (const n of [e.node, e.prevNode]) if (n?.expirationMs !== undefined) n.ttl = this.ttlSeconds(n.expirationMs);
      }
    }
    this.hub.history.restore(events, index);
    for (const r of rows) {
      const [dirName, name] = splitPath(r.path);
      const parent = this.lookup(dirName);
      if (!parent?.children) continue; // an orphan row cannot happen: parents are written first
      const n = new V2Node(r.path, name, r.createdIndex, r.modifiedIndex, parent, r.expireMs, r.value, r.dir);
      parent.children.set(name, n);
      if (n.expireMs !== 0) this.ttlNodes.add(n);
    }
  }

  /**
   * Counts one record etcd 3.4 keeps in its v2 store outside the client's keys (its `/0`
   * namespace): a member added (`/0/members/<id>/raftAttributes`), updated or promoted, its
   * published attributes, the cluster version; a removal counts two (the member's directory and
   * `/0/removed_members/<id>`). etcd's index counts them, so the same client writes get the same
   * indexes here as there (`Error:  100: Key not found (/foo) [4]` on a fresh one-member cluster).
   * History gets a placeholder event no client watch matches, keeping its indexes contiguous.
   */
  recordInternal(what: string, action: "create" | "set" | "update" | "delete"): void {
    this.countOp("write", action);
    this.index++;
    this.hub.add({ action: "set", node: { key: `internal:${what}`, modifiedIndex: this.index, createdIndex: this.index }, etcdIndex: this.index });
  }

  /** etcd's one `/0/version` record, written once every member has published (see {@link recordInternal}). */
  recordClusterVersion(): void {
    if (this.clusterVersionRecorded) return;
    this.clusterVersionRecorded = true;
    this.persist?.setClusterVersionRecorded();
    this.recordInternal("version", "set");
  }

  /** Writes the rows of the changes since the last flush (V2Persistence.flush): at the end of each applied batch. */
  flush(): void {
    this.persist?.flush();
  }

  /** True while some node has a TTL: the leader then proposes SYNCs (etcd's HasTTLKeys). */
  hasTtlKeys(): boolean {
    return this.ttlNodes.size > 0;
  }

  private lookup(p: string): V2Node | undefined {
    let curr: V2Node | undefined = this.root;
    for (const part of p.split("/")) {
      if (part === "") continue;
      curr = curr?.children?.get(part);
    }
    return curr;
  }

  /**
   * Runs `fn`, counting its success or failure under the given stats and, for `/metrics`, one
   * read or write of `action` either way (etcd's reportReadSuccess/Failure, reportWrite...).
   */
  private counted<T>(kind: "read" | "write", action: string, ok: StatName, fail: StatName, fn: () => T): T {
    this.countOp(kind, action);
    try {
      const r = fn();
      this.stats.inc(ok);
      return r;
    } catch (e) {
      this.stats.inc(fail);
      throw e;
    }
  }

  private countOp(kind: "read" | "write", action: string): void {
    const m = kind === "read" ? this.metrics.reads : this.metrics.writes;
    m.set(action, (m.get(action) ?? 0) + 1);
  }

  /**
   * The node at `p` (a directory with its children; `recursive`: all levels; `sorted`: by key).
   * @throws V2Error 100 Key not found, 104 Not a directory
   */
  get(p: string, recursive: boolean, sorted: boolean): V2Event {
    return this.counted("read", recursive ? "getRecursive" : "get", "getsSuccess", "getsFail", () => {
      const path = cleanPath(p);
      const n = this.internalGet(path);
      const node: NodeExtern = { key: path, modifiedIndex: n.modifiedIndex, createdIndex: n.createdIndex };
      if (n.isDir) {
        node.dir = true;
        node.nodes = this.listChildren(n, recursive, sorted);
      } else {
        node.value = n.value;
      }
      this.setTtl(node, n);
      return { action: "get", node, etcdIndex: this.index };
    });
  }

  /**
   * Creates a file (or `dir`) at `p`; `unique`: under `p` with the next index as its 20-digit
   * name (POST, in-order keys).
   * @throws V2Error 105 Key already exists, 104 Not a directory, 107 Root is read only
   */
  create(p: string, dir: boolean, value: string, unique: boolean, ttl: TtlOptions): V2Event {
    return this.counted("write", "create", "createSuccess", "createFail", () => {
      const e = this.internalCreate(p, dir, value, unique, false, ttl.expireMs, "create");
      e.etcdIndex = this.index;
      this.hub.notify(e);
      return e;
    });
  }

  /**
   * Creates or replaces the file (or `dir`) at `p`; with `ttl.refresh` only the TTL of the existing
   * file changes and watchers are not woken.
   * @throws V2Error 100 (refresh of a missing key), 102 Not a file (replacing a directory), 104, 107
   */
  set(p: string, dir: boolean, value: string, ttl: TtlOptions): V2Event {
    return this.counted("write", "set", "setsSuccess", "setsFail", () => {
      let prev: V2Node | undefined;
      let getErr: V2Error | undefined;
      try {
        prev = this.internalGet(cleanPath(p));
      } catch (e) {
        if (!(e instanceof V2Error) || e.errorCode !== V2Code.KeyNotFound) throw e;
        getErr = e;
      }
      if (ttl.refresh) {
        if (getErr) throw getErr;
        value = prev!.value;
      }
      const e = this.internalCreate(p, dir, value, false, true, ttl.expireMs, "set");
      e.etcdIndex = this.index;
      // prevNode was filled by internalCreate when it replaced a file.
      if (!ttl.refresh) this.hub.notify(e);
      else {
        e.refresh = true;
        this.hub.add(e);
      }
      return e;
    });
  }

  /**
   * Changes the value (or, for a directory, only the TTL) of the existing node at `p`; no TTL
   * given makes it permanent.
   * @throws V2Error 100, 102 (a value for a directory), 107
   */
  update(p: string, newValue: string, ttl: TtlOptions): V2Event {
    return this.counted("write", "update", "updateSuccess", "updateFail", () => {
      const path = cleanPath(p);
      if (path === "/") throw new V2Error(V2Code.RootROnly, "/", this.index);
      const n = this.internalGet(path);
      if (n.isDir && newValue.length !== 0) throw new V2Error(V2Code.NotFile, path, this.index);
      if (ttl.refresh) newValue = n.value;
      const next = this.index + 1;
      const e = this.event("update", path, next, n.createdIndex);
      e.etcdIndex = next;
      e.prevNode = this.repr(n, false, false);
      if (n.isDir) e.node.dir = true;
      else {
        n.value = newValue;
        n.modifiedIndex = next;
        e.node.value = newValue;
      }
      this.updateTtl(n, ttl.expireMs);
      this.setTtl(e.node, n);
      this.index = next;
      this.written(n);
      this.notifyOrRefresh(e, ttl);
      return e;
    });
  }

  /**
   * Replaces the value of the file at `p` if its value is `prevValue` (when given) and its
   * modified index is `prevIndex` (when not 0).
   * @throws V2Error 101 Compare failed (`[prev != current]`), 100, 102, 107
   */
  compareAndSwap(p: string, prevValue: string, prevIndex: number, value: string, ttl: TtlOptions): V2Event {
    return this.counted("write", "compareAndSwap", "compareAndSwapSuccess", "compareAndSwapFail", () => {
      const path = cleanPath(p);
      if (path === "/") throw new V2Error(V2Code.RootROnly, "/", this.index);
      const n = this.internalGet(path);
      if (n.isDir) throw new V2Error(V2Code.NotFile, path, this.index);
      this.compare(n, prevValue, prevIndex);
      if (ttl.refresh) value = n.value;
      this.index++;
      const e = this.event("compareAndSwap", path, this.index, n.createdIndex);
      e.etcdIndex = this.index;
      e.prevNode = this.repr(n, false, false);
      n.value = value;
      n.modifiedIndex = this.index;
      this.updateTtl(n, ttl.expireMs);
      e.node.value = value;
      this.setTtl(e.node, n);
      this.written(n);
      this.notifyOrRefresh(e, ttl);
      return e;
    });
  }

  /**
   * Deletes the file at `p`, or the directory (`dir`: empty only; `recursive`: with everything in it).
   * @throws V2Error 100, 102 Not a file (a directory without dir/recursive), 108 Directory not empty, 107
   */
  delete(p: string, dir: boolean, recursive: boolean): V2Event {
    return this.counted("write", "delete", "deleteSuccess", "deleteFail", () => {
      const path = cleanPath(p);
      if (path === "/") throw new V2Error(V2Code.RootROnly, "/", this.index);
      if (recursive) dir = true;
      const n = this.internalGet(path);
      const next = this.index + 1;
      const e = this.event("delete", path, next, n.createdIndex);
      e.etcdIndex = next;
      e.prevNode = this.repr(n, false, false);
      if (n.isDir) e.node.dir = true;
      this.removeNode(n, dir, recursive, (gone) => this.hub.notifyWatchers(e, gone, true));
      this.index = next;
      this.hub.notify(e);
      return e;
    });
  }

  /**
   * Deletes the file at `p` if it matches `prevValue` / `prevIndex` (as compareAndSwap).
   * @throws V2Error 100, 101, 102
   */
  compareAndDelete(p: string, prevValue: string, prevIndex: number): V2Event {
    return this.counted("write", "compareAndDelete", "compareAndDeleteSuccess", "compareAndDeleteFail", () => {
      const path = cleanPath(p);
      const n = this.internalGet(path);
      // etcd's cause is the store path `/1` less its prefix: empty for the root.
      if (n.isDir) throw new V2Error(V2Code.NotFile, path === "/" ? "" : path, this.index);
      this.compare(n, prevValue, prevIndex);
      this.index++;
      const e = this.event("compareAndDelete", path, this.index, n.createdIndex);
      e.etcdIndex = this.index;
      e.prevNode = this.repr(n, false, false);
      this.removeNode(n, false, false, (gone) => this.hub.notifyWatchers(e, gone, true));
      this.hub.notify(e);
      return e;
    });
  }

  /**
   * Watches `key` from `sinceIndex` (0: the next change).
   * @throws V2Error 401 The event in requested index is outdated and cleared
   */
  watch(key: string, recursive: boolean, stream: boolean, sinceIndex: number): V2Watcher {
    const path = cleanPath(key);
    this.metrics.watchRequests++;
    return this.hub.watch(path, recursive, stream, sinceIndex === 0 ? this.index + 1 : sinceIndex, this.index);
  }

  /** Removes every node whose expiry time is at or before `cutoffMs`, each as an `expire` event (etcd's DeleteExpiredKeys). */
  deleteExpiredKeys(cutoffMs: number): void {
    const due = [...this.ttlNodes].filter((n) => n.expireMs <= cutoffMs).sort((a, b) => a.expireMs - b.expireMs);
    for (const n of due) {
      if (!this.ttlNodes.has(n)) continue; // removed with an expired parent directory
      this.index++;
      const e = this.event("expire", n.path, this.index, n.createdIndex);
      e.etcdIndex = this.index;
      e.prevNode = this.repr(n, false, false);
      if (n.isDir) e.node.dir = true;
      this.removeNode(n, true, true, (gone) => this.hub.notifyWatchers(e, gone, true));
      this.stats.inc("expireCount");
      this.metrics.expires++;
      this.hub.notify(e);
    }
  }

  private event(action: V2Action, key: string, modifiedIndex: number, createdIndex: number): V2Event {
    return { action, node: { key, modifiedIndex, createdIndex }, etcdIndex: 0 };
  }

  private notifyOrRefresh(e: V2Event, ttl: TtlOptions): void {
    if (!ttl.refresh) this.hub.notify(e);
    else {
      e.refresh = true;
      this.hub.add(e);
    }
  }

  /** Persists node `n` (the store index is its event's, written by the hub). */
  private written(n: V2Node): void {
    this.persist?.put(n.row());
  }

  /** @throws V2Error 101 with etcd's cause (`[prevValue != value]`, `[prevIndex != modifiedIndex]` or both). */
  private compare(n: V2Node, prevValue: string, prevIndex: number): void {
    const indexMatch = prevIndex === 0 || n.modifiedIndex === prevIndex;
    const valueMatch = prevValue === "" || n.value === prevValue;
    if (indexMatch && valueMatch) return;
    let cause: string;
    if (!indexMatch && valueMatch) cause = `[${prevIndex} != ${n.modifiedIndex}]`;
    else if (indexMatch) cause = `[${prevValue} != ${n.value}]`;
    else cause = `[${prevValue} != ${n.value}] [${prevIndex} != ${n.modifiedIndex}]`;
    throw new V2Error(V2Code.TestFailed, cause, this.index);
  }

  private internalCreate(
    p: string,
    dir: boolean,
    value: string,
    unique: boolean,
    replace: boolean,
    expireMs: number,
    action: V2Action,
  ): V2Event {
    const currIndex = this.index;
    const nextIndex = currIndex + 1;
    if (unique) p += "/" + String(nextIndex).padStart(20, "0");
    const path = cleanPath(p);
    if (path === "/") throw new V2Error(V2Code.RootROnly, "/", currIndex);
    if (expireMs < MIN_EXPIRE_MS) expireMs = 0;
    const [dirName, nodeName] = splitPath(path);
    let d: V2Node;
    try {
      d = this.walkCreatingDirs(dirName);
    } catch (e) {
      // etcd counts this failure twice: here and in the caller's deferred report.
      this.stats.inc("setsFail");
      this.countOp("write", action);
      if (e instanceof V2Error) e.index = currIndex;
      throw e;
    }
    const e = this.event(action, path, nextIndex, nextIndex);
    const existing = d.children!.get(nodeName);
    if (existing) {
      if (!replace) throw new V2Error(V2Code.NodeExist, path, currIndex);
      if (existing.isDir) throw new V2Error(V2Code.NotFile, path, currIndex);
      e.prevNode = this.repr(existing, false, false);
      // A file: its row is replaced by the new node's (same path), no delete needed.
      this.unlinkTree(existing, undefined);
    }
    const n = new V2Node(path, nodeName, nextIndex, nextIndex, d, expireMs, dir ? "" : value, dir);
    if (dir) e.node.dir = true;
    else e.node.value = value;
    d.children!.set(nodeName, n);
    if (expireMs !== 0) {
      this.ttlNodes.add(n);
      this.setTtl(e.node, n);
    }
    this.index = nextIndex;
    this.written(n);
    return e;
  }

  /** The node at clean `path`. @throws V2Error 104 (a file on the way), 100 (missing) */
  private internalGet(path: string): V2Node {
    let curr = this.root;
    for (const part of path.split("/")) {
      if (part === "") continue;
      if (!curr.children) throw new V2Error(V2Code.NotDir, curr.path, this.index);
      const child = curr.children.get(part);
      if (!child) throw new V2Error(V2Code.KeyNotFound, joinPath(curr.path, part), this.index);
      curr = child;
    }
    return curr;
  }

  /** The directory at `path`, creating missing ones (index: the next). @throws V2Error 104 Not a directory */
  private walkCreatingDirs(path: string): V2Node {
    let curr = this.root;
    for (const part of path.split("/")) {
      if (part === "") continue;
      const child = curr.children!.get(part);
      if (child) {
        if (!child.isDir) throw new V2Error(V2Code.NotDir, child.path, this.index);
        curr = child;
        continue;
      }
      const n = new V2Node(joinPath(curr.path, part), part, this.index + 1, this.index + 1, curr, 0, "", true);
      curr.children!.set(part, n);
      this.persist?.put(n.row());
      curr = n;
    }
    return curr;
  }

  /**
   * Unlinks `n` (etcd's node.Remove): a file always; a directory only with `dir`, and with children
   * only when `recursive`. `gone` is called for every removed path (children first).
   * @throws V2Error 102 Not a file, 108 Directory not empty
   */
  private removeNode(n: V2Node, dir: boolean, recursive: boolean, gone: ((path: string) => void) | undefined): void {
    if (n.isDir) {
      if (!dir) throw new V2Error(V2Code.NotFile, n.path, this.index);
      if (n.children!.size !== 0 && !recursive) throw new V2Error(V2Code.DirNotEmpty, n.path, this.index);
    }
    this.unlinkTree(n, gone);
    this.persist?.removeTree(n.path);
  }

  private unlinkTree(n: V2Node, gone: ((path: string) => void) | undefined): void {
    if (n.children) for (const child of [...n.children.values()]) this.unlinkTree(child, gone);
    const parent = n.parent;
    if (parent?.children?.get(n.name) === n) {
      parent.children.delete(n.name);
      gone?.(n.path);
    }
    this.ttlNodes.delete(n);
  }

  private updateTtl(n: V2Node, expireMs: number): void {
    if (expireMs < MIN_EXPIRE_MS) expireMs = 0;
    n.expireMs = expireMs;
    if (expireMs === 0) this.ttlNodes.delete(n);
    else this.ttlNodes.add(n);
  }

  /** The answer's view of `n` (etcd's Repr). */
  private repr(n: V2Node, recursive: boolean, sorted: boolean): NodeExtern {
    const out: NodeExtern = { key: n.path, modifiedIndex: n.modifiedIndex, createdIndex: n.createdIndex };
    if (n.isDir) {
      out.dir = true;
      this.setTtl(out, n);
      if (recursive) out.nodes = this.listChildren(n, recursive, sorted);
      return out;
    }
    out.value = n.value;
    this.setTtl(out, n);
    return out;
  }

  private listChildren(n: V2Node, recursive: boolean, sorted: boolean): NodeExtern[] {
    const nodes: NodeExtern[] = [];
    for (const child of n.children!.values()) if (!child.isHidden) nodes.push(this.repr(child, recursive, sorted));
    if (sorted) nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return nodes;
  }

  /** Sets `expirationMs` and `ttl` (seconds left, rounded up) of a node with an expiry time. */
  private setTtl(out: NodeExtern, n: V2Node): void {
    if (n.expireMs === 0) return;
    out.expirationMs = n.expireMs;
    out.ttl = this.ttlSeconds(n.expireMs);
  }

  /** Seconds left until `expireMs`, rounded up (etcd's expirationAndTTL; negative once past). */
  private ttlSeconds(expireMs: number): number {
    const leftMs = expireMs - this.nowMs();
    return Math.trunc(leftMs / 1000) + (leftMs % 1000 > 0 ? 1 : 0);
  }

  /** The JSON of `/v2/stats/store`. */
  statsJson(): string {
    return this.stats.toJson(this.hub.count);
  }
}
