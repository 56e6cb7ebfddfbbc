import { expect, test } from "bun:test";
import { PutRequestSchema, TxnRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { LockRequestSchema } from "../../proto/gen/v3lockpb/v3lock_pb.ts";
import { goBase64ErrorOffset, goCheckMessage } from "./go-json-fields.ts";

/** Go's message for a PutRequest JSON value, or "ok". Expectations read off etcd 3.4.23's gateway. */
function put(body: unknown): string {
  try {
    goCheckMessage(PutRequestSchema, body);
    return "ok";
  } catch (e) {
    return (e as Error).message;
  }
}

test("base64 offsets as Go's base64.StdEncoding", () => {
  expect(goBase64ErrorOffset("YQ==")).toBeUndefined();
  expect(goBase64ErrorOffset("")).toBeUndefined();
  expect(goBase64ErrorOffset("Zm9vYg==")).toBeUndefined();
  expect(goBase64ErrorOffset("!!")).toBe(0);
  expect(goBase64ErrorOffset("YQ=")).toBe(3);
  expect(goBase64ErrorOffset("YQ")).toBe(0);
  expect(goBase64ErrorOffset("a-_b")).toBe(1);
  expect(goBase64ErrorOffset("YQ==YQ==")).toBe(4);
});

test("bytes and int64 fields refused with Go's messages", () => {
  expect(put({ key: 5 })).toBe("json: cannot unmarshal number into Go value of type []uint8");
  expect(put({ key: true })).toBe("json: cannot unmarshal bool into Go value of type []uint8");
  expect(put({ key: {} })).toBe("json: cannot unmarshal object into Go value of type []uint8");
  expect(put({ key: "!!" })).toBe("illegal base64 data at input byte 0");
  expect(put({ key: "YQ==", lease: "x" })).toBe("invalid character 'x' looking for beginning of value");
  expect(put({ key: "YQ==", lease: "1.5" })).toBe("json: cannot unmarshal number 1.5 into Go value of type int64");
  expect(put({ key: "YQ==", lease: 1.5 })).toBe("json: cannot unmarshal number 1.5 into Go value of type int64");
  expect(put({ key: "YQ==", lease: true })).toBe("json: cannot unmarshal bool into Go value of type int64");
  expect(put({ key: "YQ==", lease: {} })).toBe("json: cannot unmarshal object into Go value of type int64");
  expect(put({ key: "YQ==", lease: [] })).toBe("json: cannot unmarshal array into Go value of type int64");
  expect(put({ key: "YQ==", lease: "99999999999999999999" })).toBe("json: cannot unmarshal number 99999999999999999999 into Go value of type int64");
  expect(put({ key: "YQ==", lease: "-1x" })).toBe("invalid character 'x' after top-level value");
  expect(put({ key: "YQ==", lease: "0x10" })).toBe("invalid character 'x' after top-level value");
  expect(put({ key: "YQ==", lease: "" })).toBe("unexpected end of JSON input");
  expect(put({ key: "YQ==", lease: "-" })).toBe("invalid character ' ' in numeric literal");
  expect(put({ key: "YQ==", lease: "tru" })).toBe("invalid character ' ' in literal true (expecting 'e')");
  expect(put({ key: "YQ==", lease: " 5", prev_kv: true })).toBe("ok");
  expect(put({ key: "YQ==", lease: null, value: null })).toBe("ok");
  expect(put({ key: "YQ==", prevKv: "true" })).toBe("json: cannot unmarshal string into Go value of type bool");
});

test("byte arrays are accepted as Go accepts them and handed on as base64; nested messages are walked", () => {
  expect(goCheckMessage(LockRequestSchema, { name: [104, 105] })).toEqual({ name: "aGk=" });
  const txn = { compare: [{ key: 5 }] };
  expect(() => goCheckMessage(TxnRequestSchema, txn)).toThrow("json: cannot unmarshal number into Go value of type []uint8");
  expect(() => goCheckMessage(TxnRequestSchema, { success: {} })).toThrow("json: cannot unmarshal object into Go value of type []json.RawMessage");
  expect(() => goCheckMessage(TxnRequestSchema, { success: [{ request_put: { lease: "x" } }] })).toThrow(
    "invalid character 'x' looking for beginning of value",
  );
});
