/**
 * Public API of the Raft consensus core (pure: no I/O, timers or ambient randomness).
 *
 * - RawNode (node.ts): tick/step/propose/readIndex/transferLeader in, Ready out, advance() back.
 * - Storage (storage.ts): what Raft reads from the persisted log; MemoryStorage is the in-memory one.
 * - types.ts: plain Entry/Message/HardState/ConfState/Snapshot (terms/indexes: number; node IDs: bigint).
 * - wire.ts: protobuf (proto/raftpb/raft.proto) encoding for the transport and conf change payloads.
 * - errors.ts: RaftError codes (ErrProposalDropped, ErrCompacted, ...).
 * - prng.ts: seeded PRNG for RaftConfig.random.
 */
export { RawNode, SnapshotStatus, type ProgressStatus, type Ready, type Status } from "./node.ts";
export { type RaftConfig, type RaftLogger, type RandomInt } from "./raft.ts";
export { ReadOnlyOption } from "./read-only.ts";
export { ProgressState } from "./progress.ts";
export { type InitialState, type Storage } from "./storage.ts";
export { MemoryStorage } from "./memory-storage.ts";
export { RaftError, isRaftError, type RaftErrorCode } from "./errors.ts";
export { Prng } from "./prng.ts";
export * from "./types.ts";
export * from "./wire.ts";
