import { describe, expect, test } from "bun:test";
import { AlarmType } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { createHttpApp } from "./app.ts";
import { createFakeApi } from "./fake-api.ts";

async function get(app: ReturnType<typeof createHttpApp>, path: string, method = "GET") {
  const res = await app.request(path, { method });
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
}

describe("health probes (etcdhttp/health.go)", () => {
  test("/health: healthy, no leader, ?serializable=true skips the leader check, ?exclude= accepted", async () => {
    const api = createFakeApi();
    const health = { healthSuccess: 0, healthFailures: 0 };
    const app = createHttpApp(api, { maxTxnOps: 128, health });
    expect(await get(app, "/health")).toMatchObject({ status: 200, body: '{"health":"true"}' });
    expect(await get(app, "/health?exclude=NOSPACE")).toMatchObject({ status: 200, body: '{"health":"true"}' });
    api.leader = 0n;
    expect(await get(app, "/health")).toMatchObject({ status: 503, body: '{"health":"false"}\n' });
    expect(await get(app, "/health?serializable=true")).toMatchObject({ status: 200, body: '{"health":"true"}' });
    api.rangeThrows = Errors.Stopped();
    expect(await get(app, "/health?serializable=true")).toMatchObject({ status: 503 });
    expect((await get(app, "/health", "POST")).status).toBe(405);
    expect(health).toEqual({ healthSuccess: 3, healthFailures: 2 });
  });

  test("/livez and /readyz: ok, ?verbose lists the checks, no leader is not ready but live", async () => {
    const api = createFakeApi();
    const app = createHttpApp(api);
    expect(await get(app, "/livez")).toEqual({ status: 200, body: "ok\n", type: "text/plain; charset=utf-8" });
    expect(await get(app, "/readyz")).toMatchObject({ status: 200, body: "ok\n" });
    expect(await get(app, "/readyz?verbose")).toMatchObject({
      status: 200,
      body: "[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n",
    });
    expect(await get(app, "/livez?verbose")).toMatchObject({ status: 200, body: "[+]serializable_read ok\nok\n" });
    api.leader = 0n;
    expect(await get(app, "/livez")).toMatchObject({ status: 200, body: "ok\n" });
    expect(await get(app, "/readyz")).toMatchObject({
      status: 503,
      body: "[+]data_corruption ok\n[+]serializable_read ok\n[-]linearizable_read failed: etcdserver: no leader\n\n",
    });
    expect(await get(app, "/readyz/linearizable_read")).toMatchObject({ status: 503, body: "[-]linearizable_read failed: etcdserver: no leader\n\n" });
    expect(await get(app, "/readyz/serializable_read?verbose")).toMatchObject({ status: 200, body: "[+]serializable_read ok\nok\n" });
    // ?exclude= skips a check; unknown names are ignored.
    expect(await get(app, "/readyz?exclude=linearizable_read&exclude=nonsense&verbose")).toMatchObject({
      status: 200,
      body: "[+]data_corruption ok\n[+]serializable_read ok\nok\n",
    });
    api.rangeThrows = Errors.Stopped();
    expect(await get(app, "/livez")).toMatchObject({ status: 503, body: "[-]serializable_read failed: etcdserver: server stopped\n\n" });
    expect((await get(app, "/readyz", "PUT")).status).toBe(405);
  });

  test("alarms: NOSPACE makes /health fail unless excluded; CORRUPT fails /readyz's data_corruption; /livez does not look at alarms", async () => {
    const api = createFakeApi();
    const alarms: { memberID: bigint; alarm: AlarmType }[] = [];
    const app = createHttpApp(Object.assign(api, { alarmList: () => alarms as never }));
    alarms.push({ memberID: api.memberId, alarm: AlarmType.NOSPACE });
    expect(await get(app, "/health")).toMatchObject({ status: 503, body: '{"health":"false"}\n' });
    expect(await get(app, "/health?exclude=NOSPACE")).toMatchObject({ status: 200, body: '{"health":"true"}' });
    expect(await get(app, "/health?exclude=CORRUPT")).toMatchObject({ status: 503 });
    expect(await get(app, "/readyz")).toMatchObject({ status: 200 });
    alarms.push({ memberID: api.memberId, alarm: AlarmType.CORRUPT });
    expect(await get(app, "/readyz")).toMatchObject({
      status: 503,
      body: "[-]data_corruption failed: alarm activated: CORRUPT\n[+]serializable_read ok\n[+]linearizable_read ok\n\n",
    });
    expect(await get(app, "/health?exclude=NOSPACE&exclude=CORRUPT")).toMatchObject({ status: 200 });
    expect(await get(app, "/livez")).toMatchObject({ status: 200, body: "ok\n" });
  });
});
