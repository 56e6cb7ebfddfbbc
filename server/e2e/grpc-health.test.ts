/**
 * grpc.health.v1.Health through the release binary and real etcd 3.4.23 side by side, asked by a
 * plain gRPC client (@connectrpc/connect-node's gRPC transport, as any gRPC health prober):
 * Check of "" (all of etcd's services) and of an unknown service, and Watch of both, which sends
 * the status once and then keeps the stream open.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../proto/gen/grpc/health/v1/health_pb.ts";
import { callOutcome } from "./clients.ts";
import { cleanup, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);

const servers: { name: string; health: Client<typeof Health> }[] = [];

beforeAll(async () => {
  const [ours, real] = await Promise.all([startEtcd({ name: "health" }), startEtcd({ name: "health-ref", bin: "/usr/bin/etcd" })]);
  for (const [name, p] of [["ours", ours], ["etcd 3.4", real]] as const) {
    servers.push({ name, health: createClient(Health, createGrpcTransport({ baseUrl: p.endpoint })) });
  }
});
afterAll(cleanup);

/** Everything Watch sends within `ms`, and whether the stream was still open then. */
async function watchFor(health: Client<typeof Health>, service: string, ms: number): Promise<{ statuses: string[]; open: boolean }> {
  const abort = new AbortController();
  const statuses: string[] = [];
  let open = true;
  const reading = (async () => {
    try {
      for await (const r of health.watch({ service }, { signal: abort.signal })) statuses.push(Status[r.status]!);
      open = false;
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
  })();
  await Bun.sleep(ms);
  abort.abort();
  await reading;
  return { statuses, open };
}

test("Check: SERVING for the service \"\", NotFound `unknown service` for any other, as etcd 3.4", async () => {
  const answers: Record<string, string[]> = {};
  for (const s of servers) {
    const all = await s.health.check({ service: "" });
    answers[s.name] = [
      Status[all.status]!,
      await callOutcome(() => s.health.check({ service: "etcdserverpb.KV" })),
      await callOutcome(() => s.health.check({ service: "nope" })),
    ];
  }
  expect(answers["etcd 3.4"]).toEqual(["SERVING", "5: unknown service", "5: unknown service"]);
  expect(answers.ours).toEqual(answers["etcd 3.4"]!);
});

test("Watch: the status once (SERVICE_UNKNOWN for an unknown service), then the stream stays open", async () => {
  const answers: Record<string, unknown[]> = {};
  for (const s of servers) {
    answers[s.name] = await Promise.all([watchFor(s.health, "", 400), watchFor(s.health, "nope", 400)]);
  }
  expect(answers["etcd 3.4"]).toEqual([
    { statuses: ["SERVING"], open: true },
    { statuses: ["SERVICE_UNKNOWN"], open: true },
  ]);
  expect(answers.ours).toEqual(answers["etcd 3.4"]!);
});
