/**
 * Auto-compaction (`--auto-compaction-mode periodic|revision`, `--auto-compaction-retention`) on
 * etcd 3.4's schedule (etcdserver/api/v3compactor): the member proposes a Compaction through the
 * log, as a client's would be. Like etcd, only the leader compacts: the compactor is paused
 * while this member does not lead and resumed when it does (etcdserver/raft.go
 * updateLeadership). Time and timers come from the member's environment (server/node/env.ts),
 * so tests drive the schedule with a manual clock.
 */
import { ConnectError } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import type { MemberEnv } from "../node/env.ts";
import { goParseDuration } from "../../cli/go/duration.ts";
import { PeriodicCompactor } from "./periodic.ts";
import { RevisionCompactor } from "./revision.ts";

/** `--auto-compaction-mode`. */
export type CompactionMode = "periodic" | "revision";

/** A running compactor (etcd's v3compactor.Compactor). */
export interface Compactor {
  /** Skip compactions until {@link resume} (this member does not lead). */
  pause(): void;
  resume(): void;
  /** Stops the timers; no compaction starts afterwards. */
  stop(): void;
}

/** Logger of the compactor (server/log.ts). */
export interface CompactorLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** What a compactor needs from its member. */
export interface CompactorDeps {
  env: MemberEnv;
  log: CompactorLogger;
  /** Current revision of the store. */
  rev(): number;
  /** Proposes a compaction at `revision` and resolves once applied; rejects with the member's ConnectError. */
  compact(revision: number): Promise<unknown>;
}

/**
 * `--auto-compaction-retention` as etcd 3.4 reads it (embed/etcd.go parseCompactionRetention): a
 * non-negative integer is hours (periodic) or a revision count (revision); anything else a Go
 * duration, in nanoseconds (a revision count in revision mode, as etcd takes the duration's
 * nanoseconds). Throws `error parsing CompactionRetention: time: invalid duration "<text>"` (or
 * Go's other duration errors).
 */
export function parseCompactionRetention(mode: CompactionMode, text: string): number {
  const value = text === "" ? "0" : text;
  if (/^[+-]?\d+$/.test(value) && Number(value) >= 0) return mode === "periodic" ? Number(value) * 3600e9 : Number(value);
  try {
    return Math.round(goParseDuration(value) * 1e6); // ms → ns
  } catch (e) {
    throw new Error(`error parsing CompactionRetention: ${(e as Error).message}`);
  }
}

/** An error as etcd logs it: a member error by its etcd text, anything else by its message. */
export function errorText(e: unknown): string {
  return e instanceof ConnectError ? e.rawMessage : e instanceof Error ? e.message : String(e);
}

/** True for an error etcd's compactors count as success: the revision was compacted already. */
export function isCompactedError(e: unknown): boolean {
  return e instanceof ConnectError && e.rawMessage === Errors.Compacted().rawMessage;
}

/**
 * Starts the compactor for `mode` and `retention` (from {@link parseCompactionRetention}; 0 starts
 * none and returns undefined, as etcd).
 */
export function startCompactor(mode: CompactionMode, retention: number, deps: CompactorDeps): Compactor | undefined {
  if (retention === 0) return undefined;
  const c = mode === "periodic" ? new PeriodicCompactor(retention, deps) : new RevisionCompactor(retention, deps);
  c.run();
  return c;
}
