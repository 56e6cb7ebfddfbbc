/**
 * A concurrent register/CAS workload against an etcd cluster for the linearizability check:
 * closed-loop clients, each bound to one member at a time, issue linearizable reads (Range),
 * writes (Put of a value unique to the history) and compare-and-set (Txn: VALUE == expected ->
 * Put) on a few keys, over a Connect gRPC client without retries (clients.ts), and record every
 * operation in a HistoryRecorder. etcd's CAS recipe is the Txn of etcd's clientv3/concurrency
 * STM and `etcdctl txn` examples.
 *
 * Outcomes: an answer is recorded as such. A refused connection means the request never left
 * the client: the operation is dropped. Any other error of a write or CAS (deadline, reset
 * stream, `etcdserver: request timed out`, `leader changed`...) may hide an applied request:
 * its outcome is unknown. A read that fails is dropped (it has no effect). After an error the
 * client moves to the next member.
 */
import { ConnectError } from "@connectrpc/connect";
import { Compare_CompareResult, Compare_CompareTarget } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { bytes, type EtcdGrpc, grpcClients, text } from "../clients.ts";
import type { RegisterInput, RegisterOutput, RegisterValue } from "./model.ts";
import type { HistoryRecorder } from "./recorder.ts";

/** Options of `runWorkload`. */
export interface WorkloadOptions {
  /** Client URLs of the members; client `c` starts on member `c % endpoints.length`. */
  endpoints: string[];
  /** Concurrent clients. */
  clients: number;
  /** Keys operated on (each is one register). */
  keys: string[];
  /** Deadline of each request, ms. */
  requestTimeoutMs: number;
  /** The clients stop once this returns true (checked before each operation). */
  stop: () => boolean;
  /** Random source in [0, 1) (default Math.random). */
  random?: () => number;
}

/** An acknowledged write: the value and the revision the server answered with. */
export interface AckedWrite {
  key: string;
  value: string;
  revision: bigint;
}

/** Counts of what the clients saw. */
export interface WorkloadStats {
  ok: number;
  /** Writes/CAS with unknown outcome. */
  unknown: number;
  /** Operations dropped: refused connections and failed reads. */
  dropped: number;
  /** Acknowledged writes and successful CAS, in acknowledgement order. */
  acked: AckedWrite[];
  /** A few error messages seen, for the log. */
  errorSamples: string[];
}

/** True for an error that shows the request was never sent (connection refused). */
function neverSent(e: unknown): boolean {
  return /ECONNREFUSED|ConnectionRefused|Unable to connect/i.test(String(e instanceof ConnectError ? e.rawMessage : e));
}

/**
 * Runs the clients until `stop()` and resolves with their counts; operations go to `recorder`.
 * Never throws for request errors (they are part of the history).
 */
export async function runWorkload(opts: WorkloadOptions, recorder: HistoryRecorder): Promise<WorkloadStats> {
  const random = opts.random ?? Math.random;
  const stats: WorkloadStats = { ok: 0, unknown: 0, dropped: 0, acked: [], errorSamples: [] };
  const connections = new Map<string, EtcdGrpc>();
  const connect = (endpoint: string) => {
    let c = connections.get(endpoint);
    if (!c) connections.set(endpoint, (c = grpcClients(endpoint)));
    return c;
  };

  const client = async (c: number): Promise<void> => {
    let member = c % opts.endpoints.length;
    const lastSeen = new Map<string, RegisterValue>();
    for (let n = 0; !opts.stop(); n++) {
      const key = opts.keys[Math.floor(random() * opts.keys.length)]!;
      const value = `c${c}-${n}`;
      const seen = lastSeen.get(key);
      const r = random();
      const input: RegisterInput =
        r < 0.4 ? { kind: "read" } : r < 0.7 || seen == null ? { kind: "write", value } : { kind: "cas", expected: seen, value };
      const { kv } = connect(opts.endpoints[member]!);
      const call = { timeoutMs: opts.requestTimeoutMs };
      const complete = recorder.invoke(c, key, input);
      try {
        let output: RegisterOutput;
        if (input.kind === "read") {
          const res = await kv.range({ key: bytes(key) }, call);
          const got = res.kvs[0] ? text(res.kvs[0].value) : null;
          output = { kind: "read", value: got };
          lastSeen.set(key, got);
        } else if (input.kind === "write") {
          // This workload writes values only (a write of null, a delete, is the simulation's).
          const value = input.value as string;
          const res = await kv.put({ key: bytes(key), value: bytes(value) }, call);
          output = { kind: "write" };
          stats.acked.push({ key, value, revision: res.header!.revision });
          lastSeen.set(key, value);
        } else {
          const res = await kv.txn(
            {
              compare: [{ key: bytes(key), target: Compare_CompareTarget.VALUE, result: Compare_CompareResult.EQUAL, targetUnion: { case: "value", value: bytes(input.expected) } }],
              success: [{ request: { case: "requestPut", value: { key: bytes(key), value: bytes(input.value) } } }],
            },
            call,
          );
          output = { kind: "cas", ok: res.succeeded };
          if (res.succeeded) {
            stats.acked.push({ key, value: input.value, revision: res.header!.revision });
            lastSeen.set(key, input.value);
          } else lastSeen.delete(key);
        }
        complete(output);
        stats.ok++;
      } catch (e) {
        if (stats.errorSamples.length < 5) stats.errorSamples.push(String(e instanceof ConnectError ? e.message : e));
        if (input.kind === "read" || neverSent(e)) {
          complete("not-applied");
          stats.dropped++;
        } else {
          complete(undefined);
          stats.unknown++;
        }
        member = (member + 1) % opts.endpoints.length;
        await Bun.sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client(c)));
  return stats;
}
