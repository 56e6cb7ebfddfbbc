/**
 * The pluggable workload contract of the benchmark. A workload (one file under `scripts/bench/workloads/`) turns
 * {@link WorkloadOptions} into an operation that each simulated client issues in a closed loop; the generator
 * process times every call. Modelled on the subcommands of etcd's `tools/benchmark` (put, range, txn-put).
 */
import type { ClientKind, Caller } from "./callers.ts";

/** Options of one workload run; plain JSON so they can be sent to the generator process. */
export interface WorkloadOptions {
  /** Workload name as typed on the command line: "put", "range", "txn-put". */
  mode: string;
  /** Concurrent clients, each with one request in flight (etcd benchmark `--clients`, default 100). */
  clients: number;
  /** HTTP/2 connections the clients share round-robin (etcd benchmark `--conns`, default 1). */
  conns: number;
  /** Key size in bytes (`--key-size`, default 8). */
  keySize: number;
  /** Value size in bytes (`--val-size`, default 256). */
  valSize: number;
  /** Number of distinct keys written (`--key-space-size`, default 1 as in etcd's benchmark). */
  keySpaceSize: number;
  /** Write keys 0, 1, 2... (mod key space) instead of random ones (`--sequential-keys`). */
  sequentialKeys: boolean;
  /** Range consistency: "l" linearizable or "s" serializable (range mode, `--consistency`, default "l"). */
  consistency: "l" | "s";
  /** Key read by range mode; empty means key number 0 of the put key space (which range mode writes first). */
  rangeKey: string;
  /** Optional range_end of range mode (exclusive); empty reads the single key. */
  rangeEnd: string;
  /**
   * Range mode without a key argument: keys written before the warm-up and read by every request (`--range-keys`,
   * default 1). With more than 1 they are `range-bench/00000`, `range-bench/00001`... and each request reads the
   * whole prefix.
   */
  rangeKeys: number;
  /** Delete mode: keys written before the warm-up that the deletes go through in order (`--delete-keys`). */
  deleteKeys: number;
  /** Puts per transaction in txn-put mode (`--txn-ops`, default 1). */
  txnOps: number;
  /** gRPC client used by the generator (`--client`, default "raw"). */
  client: ClientKind;
}

/** What a workload gets to build its requests: the options and a caller bound to the server under test. */
export interface WorkloadContext {
  options: WorkloadOptions;
  /** Prepares unary requests; a prepared call sends over connection `client % conns`. */
  caller: Caller;
  /** The server's client URL (`http://127.0.0.1:<port>`), for workloads over plain HTTP (v2-set). */
  endpoint: string;
}

/** One request of a client: `seq` is the request's number for this server and workload (0, 1, 2...). */
export type Operation = (seq: number, client: number) => Promise<unknown>;

/** A benchmark workload; see the files in `scripts/bench/workloads/`. */
export interface Workload {
  /** Mode name as typed on the command line. */
  readonly mode: string;
  /** Short human description with the parameters that matter, e.g. "range (serializable)". */
  describe(options: WorkloadOptions): string;
  /** Optional set-up run once per server before the warm-up, e.g. writing the key that range mode reads. */
  prepare?(context: WorkloadContext): Promise<void>;
  /** Builds the operation; called once per server, so it should prepare its requests up front where it can. */
  operation(context: WorkloadContext): Operation;
}
