import { expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Waiters, waitersOf } from "./waiters.ts";

test("calls over the limit fail with etcd's ResourceExhausted 'too many requests'; finished ones free their place", async () => {
  const w = new Waiters(2);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a = w.run(() => gate);
  const stream = w.stream(async function* () {
    await gate;
    yield 1;
  });
  const first = stream.next(); // a generator enters on its first next()
  expect(w.size).toBe(2);
  const refused = await w.run(async () => 0).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ConnectError);
  expect([(refused as ConnectError).code, (refused as ConnectError).rawMessage]).toEqual([Code.ResourceExhausted, "etcdserver: too many requests"]);
  release();
  await a;
  expect((await first).value).toBe(1);
  await stream.return(undefined);
  expect(w.size).toBe(0);
  expect(await w.run(async () => 7)).toBe(7);
});

test("one bound per member", () => {
  const api = {};
  expect(waitersOf(api)).toBe(waitersOf(api));
  expect(waitersOf({})).not.toBe(waitersOf(api));
});
