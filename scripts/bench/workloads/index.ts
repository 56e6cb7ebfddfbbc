/**
 * Registry of benchmark workloads by mode name. To add a mode (watch, lease-keepalive...), write one file in this
 * folder exporting a {@link Workload} and list it here.
 */
import type { Workload } from "../workload.ts";
import { deleteWorkload } from "./delete.ts";
import { putWorkload } from "./put.ts";
import { rangeWorkload } from "./range.ts";
import { txnPutWorkload } from "./txn-put.ts";
import { v2SetWorkload } from "./v2-set.ts";

/** All workloads, keyed by mode name. */
export const WORKLOADS: ReadonlyMap<string, Workload> = new Map(
  [putWorkload, rangeWorkload, txnPutWorkload, deleteWorkload, v2SetWorkload].map((w) => [w.mode, w]),
);

/** The workload of a mode; throws Error("unknown benchmark mode ...") for an unknown one. */
export function workloadFor(mode: string): Workload {
  const workload = WORKLOADS.get(mode);
  if (!workload) throw new Error(`unknown benchmark mode ${JSON.stringify(mode)} (known: ${[...WORKLOADS.keys()].join(", ")})`);
  return workload;
}
