import { expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { clientError } from "./client.ts";
import { concatKey, prefixEnd } from "./kv-client.ts";
import { sessionKeySuffix } from "./session.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("prefixEnd as clientv3.GetPrefixRangeEnd", () => {
  expect(hex(prefixEnd(new Uint8Array([0x61, 0x2f])))).toBe("6130");
  expect(hex(prefixEnd(new Uint8Array([0x61, 0xff])))).toBe("62");
  expect(hex(prefixEnd(new Uint8Array([0xff, 0xff])))).toBe("00");
  expect(hex(prefixEnd(new Uint8Array([])))).toBe("00");
});

test("keys are <name>/<lease as Go's %x of an int64>", () => {
  expect(new TextDecoder().decode(concatKey(concatKey(new TextEncoder().encode("lk"), "/"), sessionKeySuffix(0x694d77aa9e38260fn)))).toBe("lk/694d77aa9e38260f");
  expect(sessionKeySuffix(-1n)).toBe("-1");
  expect(sessionKeySuffix(255n)).toBe("ff");
});

test("member errors lose their code as clientv3 hands them on; cancellation stays", () => {
  const e = clientError(new ConnectError("etcdserver: requested lease not found", Code.NotFound));
  expect([e.code, e.rawMessage]).toEqual([Code.Unknown, "etcdserver: requested lease not found"]);
  expect(clientError(new ConnectError("context canceled", Code.Canceled)).code).toBe(Code.Canceled);
  expect(clientError(new Error("boom")).code).toBe(Code.Unknown);
});
