/**
 * The corruption check (etcd's etcdserver/corrupt.go): members that applied the same log must
 * have the same MVCC history, so their HashKV at the same revision and compact revision agree.
 *
 * - {@link CorruptChecker.initialCheck} (`--experimental-initial-corrupt-check`): at start-up,
 *   this member's HashKV(0) is compared with every peer's HashKV at that revision; a different
 *   hash at the same compact revision fails the start-up with `<id> found data inconsistency
 *   with peers` (etcd's CheckInitialHashKV; no alarm).
 * - {@link CorruptChecker.periodicCheck} (every `--experimental-corrupt-check-time` on the
 *   leader, started by {@link CorruptChecker.start}): the leader hashes, asks every follower for
 *   HashKV at its revision over the peer port, hashes again after a ReadIndex round, and raises
 *   the CORRUPT alarm (member ID 0, as etcd 3.4.23: it cannot tell which member is corrupt)
 *   through the log when its own two hashes differ at the same revisions, or a follower is
 *   ahead of it (revision or compact revision), or a follower with its compact revision has
 *   another hash (etcd's checkHashKV). The alarm then refuses writes on every member.
 * Timers come from the member's environment (server/node/env.ts).
 */
import type { KvHash } from "../mvcc/hash.ts";
import type { EnvTimer, MemberEnv } from "../node/env.ts";
import { idToHex } from "../membership/ids.ts";
import type { PeerHashKV } from "./peer-hashkv.ts";

/** What the checker needs from its member. */
export interface CorruptCheckDeps {
  memberId: bigint;
  /** This member's HashKV (server/mvcc/hash.ts). */
  hashKV(revision: number): Promise<KvHash>;
  /** The other members and their peer URLs. */
  peers(): { id: bigint; peerURLs: string[] }[];
  /** Asks one peer URL for HashKV at `revision` (server/corrupt/peer-hashkv.ts). */
  fetchPeer(url: string, revision: number): Promise<PeerHashKV>;
  /** Whether this member leads now. */
  isLeader(): boolean;
  /** A ReadIndex round: this member has applied everything committed before the call. */
  linearizableReadNotify(): Promise<void>;
  /** Proposes the CORRUPT alarm for member 0 through the log. */
  raiseCorrupt(): Promise<void>;
  logger: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
  env: MemberEnv;
}

type PeerAnswer = { id: bigint; eps: string[]; resp?: KvHash; error?: string };

/** Runs the start-up and periodic corruption checks of one member. */
export class CorruptChecker {
  private timer: EnvTimer | undefined;
  private running = false;

  constructor(private readonly deps: CorruptCheckDeps) {}

  /** Every peer's HashKV at `revision`: the first peer URL that answers, else the last error. */
  private async peerHashes(revision: number): Promise<PeerAnswer[]> {
    const out: PeerAnswer[] = [];
    for (const p of this.deps.peers()) {
      if (p.id === this.deps.memberId || p.peerURLs.length === 0) continue;
      let last = "";
      let resp: KvHash | undefined;
      for (const url of p.peerURLs) {
        const r = await this.deps.fetchPeer(url, revision);
        if ("ok" in r) {
          resp = r.ok;
          break;
        }
        last = r.error;
        this.deps.logger.warn("failed hash kv request", {
          "local-member-id": idToHex(this.deps.memberId),
          "requested-revision": revision,
          "remote-peer-endpoint": url,
          error: r.error,
        });
      }
      out.push(resp ? { id: p.id, eps: p.peerURLs, resp } : { id: p.id, eps: p.peerURLs, error: last });
    }
    return out;
  }

  /**
   * etcd's CheckInitialHashKV. Throws `<member id> found data inconsistency with peers` when a
   * peer has another hash at the same revision and compact revision; unreachable, lagging or
   * differently compacted peers are only logged.
   */
  async initialCheck(): Promise<void> {
    const id = idToHex(this.deps.memberId);
    this.deps.logger.info("starting initial corruption check", { "local-member-id": id });
    const local = await this.deps.hashKV(0);
    let mismatch = 0;
    for (const p of await this.peerHashes(local.revision)) {
      const fields = {
        "local-member-id": id,
        "local-member-revision": local.revision,
        "local-member-compact-revision": local.compactRevision,
        "local-member-hash": local.hash,
        "remote-peer-id": idToHex(p.id),
        "remote-peer-endpoints": p.eps,
      };
      if (p.resp) {
        if (p.resp.hash === local.hash) continue;
        if (p.resp.compactRevision === local.compactRevision) {
          this.deps.logger.warn("found different hash values from remote peer", { ...fields, "remote-peer-hash": p.resp.hash });
          mismatch++;
        } else {
          this.deps.logger.warn("found different compact revision values from remote peer", { ...fields, "remote-peer-compact-revision": p.resp.compactRevision });
        }
      } else if (p.error === "future") {
        this.deps.logger.warn("cannot fetch hash from slow remote peer", fields);
      } else if (p.error === "compacted") {
        this.deps.logger.warn("cannot fetch hash from remote peer; local member is behind", fields);
      }
    }
    if (mismatch > 0) throw new Error(`${id} found data inconsistency with peers`);
    this.deps.logger.info("initial corruption checking passed; no corruption", { "local-member-id": id });
  }

  /**
   * etcd's checkHashKV, run by the leader. Resolves with whether it raised CORRUPT. Throws the
   * local HashKV's or ReadIndex's error.
   */
  async periodicCheck(): Promise<boolean> {
    const first = await this.deps.hashKV(0);
    const peers = await this.peerHashes(first.revision);
    await this.deps.linearizableReadNotify();
    const second = await this.deps.hashKV(0);
    let alarmed = false;
    const mismatch = async (msg: string, fields: Record<string, unknown>) => {
      this.deps.logger.warn(msg, fields);
      if (alarmed) return;
      alarmed = true;
      await this.deps.raiseCorrupt();
    };
    if (second.hash !== first.hash && second.revision === first.revision && second.compactRevision === first.compactRevision) {
      await mismatch("found hash mismatch", { "revision-1": first.revision, "hash-1": first.hash, "revision-2": second.revision, "hash-2": second.hash });
    }
    let checked = 0;
    for (const p of peers) {
      if (!p.resp) continue;
      checked++;
      const peer = idToHex(p.id);
      if (p.resp.revision > second.revision) {
        await mismatch("revision from follower must be less than or equal to leader's", { "leader-revision": second.revision, "follower-revision": p.resp.revision, "follower-peer-id": peer });
      }
      if (p.resp.compactRevision > second.compactRevision) {
        await mismatch("compact revision from follower must be less than or equal to leader's", {
          "leader-compact-revision": second.compactRevision,
          "follower-compact-revision": p.resp.compactRevision,
          "follower-peer-id": peer,
        });
      }
      if (p.resp.compactRevision === first.compactRevision && p.resp.hash !== first.hash) {
        await mismatch("same compact revision then hashes must match", {
          "leader-compact-revision": second.compactRevision,
          "leader-hash": first.hash,
          "follower-compact-revision": p.resp.compactRevision,
          "follower-hash": p.resp.hash,
          "follower-peer-id": peer,
        });
      }
    }
    this.deps.logger.info("finished peer corruption check", { "number-of-peers-checked": checked });
    return alarmed;
  }

  /** Runs {@link periodicCheck} every `intervalMs` while this member leads (etcd's monitorKVHash). */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.deps.logger.info("enabled corruption checking", { "local-member-id": idToHex(this.deps.memberId), interval: `${intervalMs}ms` });
    this.timer = this.deps.env.setInterval(() => {
      if (this.running || !this.deps.isLeader()) return;
      this.running = true;
      this.periodicCheck()
        .catch((e) => this.deps.logger.warn("failed to check hash KV", { error: e instanceof Error ? e.message : String(e) }))
        .finally(() => (this.running = false));
    }, intervalMs);
  }

  /** Stops the periodic check. */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
