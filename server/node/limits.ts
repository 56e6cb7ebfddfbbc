/**
 * Back-pressure limits of a member: how much work it accepts before it answers
 * `etcdserver: too many requests` (gRPC ResourceExhausted, Errors.TooManyRequests()) instead of
 * queueing more. Units are in the names. Source: etcd 3.4 `etcdserver/v3_server.go`
 * (`maxGapBetweenApplyAndCommitIndex`, checked in processInternalRaftRequestOnce); the other
 * limits are ours: etcd's goroutine-per-request design bounds them by memory only.
 *
 * Other bounded queues: the watch stream buffer (server/mvcc/watch/stream.ts
 * `DEFAULT_STREAM_BUFFER_BYTES`, slow readers catch up from the store), peer message queues
 * (server/transport/transport.ts `DEFAULT_MAX_QUEUED_MESSAGES`); a lease keep-alive stream
 * handles one request at a time (server/api/lease.ts), so HTTP/2 flow control bounds each one.
 */

/**
 * A proposal is refused while the applied index lags the log by more than this many entries
 * (etcd's maxGapBetweenApplyAndCommitIndex = 5000, measured against the committed index; ours
 * also counts entries proposed in the current turn, see EtcdNode.applyLagEntries).
 */
export const MAX_APPLY_LAG_ENTRIES = 5000;

/** Most proposals of this member waiting for their entry to be applied, proposals. */
export const MAX_PENDING_PROPOSALS = 10_000;

/**
 * Most encoded bytes of proposals waiting at once (10,000 × 1.5 MiB requests would otherwise be
 * 15 GiB), bytes. A single request up to `--max-request-bytes` is always taken when none waits.
 */
export const MAX_PENDING_PROPOSAL_BYTES = 256 * 1024 * 1024;

/**
 * Most linearizable reads waiting at once (batched for, or in, a ReadIndex round, or waiting for
 * apply to reach their read index), reads.
 */
export const MAX_READ_INDEX_WAITERS = 10_000;

/**
 * Most bounded waits for the applied index at once (simple tokens naming an entry not applied
 * here yet, server/node/applied-waiters.ts); more answer `etcdserver: too many requests`.
 */
export const MAX_TOKEN_INDEX_WAITERS = 10_000;

/**
 * Most bytes of committed entry data applied in one Ready, i.e. in one SQLite transaction and
 * one turn of the event loop (Raft's MaxCommittedSizePerReady): clients are served between
 * batches, and see the apply lag.
 */
export const MAX_APPLY_BATCH_BYTES = 64 * 1024;

/**
 * Most watch streams open on this member at once, streams (each buffers up to
 * `DEFAULT_STREAM_BUFFER_BYTES`); one more is refused with `etcdserver: too many requests`.
 * etcd bounds them only by `--max-concurrent-streams` per connection (default 2^32 - 1).
 */
export const MAX_WATCH_STREAMS = 10_000;

/**
 * Most LeaseKeepAlive streams open on this member's Lease service at once, streams; one more is
 * refused with `etcdserver: too many requests` (etcd: bounded by `--max-concurrent-streams` only).
 */
export const MAX_LEASE_KEEPALIVE_STREAMS = 10_000;

/** How often proposals Raft dropped (no leader known, leadership transfer) are offered again, ms. */
export const PROPOSAL_RETRY_MS = 50;

/**
 * Rows a compaction frees that one event-loop turn deletes (in its own transaction): etcd 3.4
 * deletes 1,000 keys per batch by default (`--experimental-compaction-batch-limit`,
 * mvcc/kvstore_compaction.go), so heartbeats and requests are never held up for long.
 */
export const COMPACTION_BATCH_ROWS = 1_000;

/** Pause between two compaction batches, ms (etcd 3.4's fixed 10 ms, mvcc/kvstore_compaction.go). */
export const COMPACTION_BATCH_PAUSE_MS = 10;
