/**
 * Maintenance.Snapshot's handler: a learner refuses it (etcd 3.4 refuses every stream on a
 * learner), a member without a snapshot source answers Unimplemented, and the chunks pass
 * through without a header (as etcd 3.4 sends them), with the request's AbortSignal.
 */
import { expect, test } from "bun:test";
import { createHandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { Maintenance, SnapshotRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { createFakeApi } from "../http/fake-api.ts";
import { maintenanceService } from "./maintenance.ts";

const ctx = () =>
  createHandlerContext({ service: Maintenance, method: Maintenance.method.snapshot, protocolName: "grpc", requestMethod: "POST", url: "/" });

async function collect(api: ReturnType<typeof createFakeApi>) {
  const out = [];
  for await (const r of maintenanceService(api).snapshot!(create(SnapshotRequestSchema), ctx())) out.push(r);
  return out;
}

test("a learner refuses Snapshot", async () => {
  const api = createFakeApi();
  api.rejectIfLearner = () => {
    throw Errors.NotSupportedForLearner();
  };
  api.snapshot = () => {
    throw new Error("must not be called");
  };
  await expect(collect(api)).rejects.toThrow("etcdserver: rpc not supported for learner");
});

test("without a snapshot source: Unimplemented", async () => {
  const api = createFakeApi();
  delete (api as { snapshot?: unknown }).snapshot;
  await expect(collect(api)).rejects.toThrow(/unimplemented|not implemented/i);
});

test("chunks pass through without a header, with the request's signal", async () => {
  const api = createFakeApi();
  let signal: AbortSignal | undefined;
  api.snapshot = async function* (s?: AbortSignal) {
    signal = s;
    yield { remainingBytes: 1n, blob: new Uint8Array([1]) };
    yield { remainingBytes: 0n, blob: new Uint8Array([2]) };
  };
  const got = await collect(api);
  expect(got.map((r) => [r.remainingBytes, [...(r.blob ?? [])], "header" in r ? r.header : undefined])).toEqual([
    [1n, [1], undefined],
    [0n, [2], undefined],
  ]);
  expect(signal).toBeInstanceOf(AbortSignal);
});
