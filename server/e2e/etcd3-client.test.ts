/**
 * The `etcd3` npm client (grpc-js, unmodified) against the server: put, get, getAll().prefix(),
 * delete and an if/then/else transaction, with revisions checked against the response headers.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { Etcd3 } from "etcd3";
import { cleanup, type EtcdProcess, startEtcd } from "./harness.ts";

// Each test starts/stops real processes: allow more than bun's 5 s default.
setDefaultTimeout(60_000);

let etcd: EtcdProcess;
let client: Etcd3;

beforeAll(async () => {
  etcd = await startEtcd({ name: "etcd3" });
  client = new Etcd3({ hosts: etcd.endpoint });
});
afterAll(async () => {
  client?.close();
  await cleanup();
});

test("put then get", async () => {
  const put = await client.put("/app/a").value("alpha").exec();
  expect(Number(put.header.revision)).toBeGreaterThan(1);
  expect(await client.get("/app/a").string()).toBe("alpha");
  const res = await client.get("/app/a").exec();
  expect(res.kvs).toHaveLength(1);
  expect(res.kvs[0]!.mod_revision).toBe(put.header.revision);
  expect(res.kvs[0]!.create_revision).toBe(put.header.revision);
  expect(res.kvs[0]!.version).toBe("1");
  expect(await client.get("/app/missing").string()).toBeNull();
});

test("put with prevKv returns the previous pair", async () => {
  const res = await client.put("/app/a").value("alpha2").getPrevious();
  expect(res.value?.toString()).toBe("alpha");
  expect(res.version).toBe("1");
  expect(await client.get("/app/a").string()).toBe("alpha2");
});

test("getAll().prefix()", async () => {
  await client.put("/app/b").value("beta");
  await client.put("/app/c").value("gamma");
  await client.put("/other").value("x");
  expect(await client.getAll().prefix("/app/").strings()).toEqual({
    "/app/a": "alpha2",
    "/app/b": "beta",
    "/app/c": "gamma",
  });
  expect(await client.getAll().prefix("/app/").count()).toBe(3);
  expect(await client.getAll().prefix("/app/").sort("Key", "Descend").limit(2).keys()).toEqual(["/app/c", "/app/b"]);
});

test("delete", async () => {
  const one = await client.delete().key("/app/c").exec();
  expect(one.deleted).toBe("1");
  expect(await client.get("/app/c").string()).toBeNull();
  const all = await client.delete().prefix("/app/").exec();
  expect(all.deleted).toBe("2");
  expect(await client.getAll().prefix("/app/").count()).toBe(0);
});

test("if/then/else transaction takes the then branch when the compare holds", async () => {
  await client.put("/lock").value("owner-1");
  const res = await client
    .if("/lock", "Value", "==", "owner-1")
    .then(client.put("/lock").value("owner-2"))
    .else(client.put("/lost").value("1"))
    .commit();
  expect(res.succeeded).toBe(true);
  expect(await client.get("/lock").string()).toBe("owner-2");
  expect(await client.get("/lost").string()).toBeNull();
});

test("if/then/else transaction takes the else branch when the compare fails", async () => {
  const res = await client
    .if("/lock", "Value", "==", "owner-1")
    .then(client.put("/lock").value("owner-3"))
    .else(client.put("/lost").value("1"), client.get("/lock"))
    .commit();
  expect(res.succeeded).toBe(false);
  expect(res.responses).toHaveLength(2);
  expect(res.responses[1]!.response_range?.kvs[0]?.value.toString()).toBe("owner-2");
  expect(await client.get("/lock").string()).toBe("owner-2");
  expect(await client.get("/lost").string()).toBe("1");
});
