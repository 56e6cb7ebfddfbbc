/** Go's ParseForm as the v2 keys handler reads requests (net/http, net/url); see form.ts. */
import { describe, expect, test } from "bun:test";
import { FormError, formValue, parseForm } from "./form.ts";
import { parseKeyRequest } from "./keys.ts";
import { V2Error } from "../../v2store/errors.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("parseForm", () => {
  test("a PUT body's values come before the query's; GET and DELETE bodies are not read", async () => {
    const put = await parseForm(new Request("http://h/v2/keys/a?value=q&ttl=5", { method: "PUT", body: "value=b+c%21", headers: FORM }));
    expect(put.get("value")).toEqual(["b c!", "q"]);
    expect(formValue(put, "ttl")).toBe("5");
    const del = await parseForm(new Request("http://h/v2/keys/a?x=1", { method: "DELETE", body: "value=b", headers: FORM }));
    expect(del.has("value")).toBe(false);
    const noType = await parseForm(new Request("http://h/v2/keys/a", { method: "PUT", body: "value=b" }));
    expect(noType.has("value")).toBe(false);
  });

  test("bad escapes and semicolons fail with Go's messages", async () => {
    const fail = (url: string) => parseForm(new Request(url)).then(() => "", (e) => (e instanceof FormError ? e.message : String(e)));
    expect(await fail("http://h/v2/keys/a?a=%zz&b=1")).toBe('invalid URL escape "%zz"');
    expect(await fail("http://h/v2/keys/a?a=1;b=2")).toBe("invalid semicolon separator in query");
  });
});

describe("parseKeyRequest", () => {
  const parse = (url: string, init: RequestInit = {}) => parseKeyRequest(new Request(url, init), "/a", 1_000);
  const error = (url: string, init?: RequestInit) => parse(url, init).then(() => undefined, (e: V2Error) => e.toJSON());

  test("fields, a TTL's expiry in Unix nanoseconds, prevExist and refresh as pointers", async () => {
    const { init, noValueOnSuccess } = await parse("http://h/v2/keys/a?ttl=2&prevExist=false&recursive=1&noValueOnSuccess=T", { method: "PUT", body: "value=v", headers: FORM });
    expect(init.Val).toBe("v");
    expect(init.Expiration).toBe(3_000_000_000n);
    expect(init.PrevExist).toBe(false);
    expect(init.Refresh).toBeUndefined();
    expect(init.Recursive).toBe(true);
    expect(noValueOnSuccess).toBe(true);
  });

  test("etcd's checks in etcd's order", async () => {
    expect(await error("http://h/?prevIndex=x&ttl=y")).toEqual({ errorCode: 203, message: "The given index in POST form is not a number", cause: 'invalid value for "prevIndex"', index: 0 });
    expect(await error("http://h/?recursive=2&sorted=3")).toMatchObject({ errorCode: 209, cause: 'invalid value for "recursive"' });
    expect(await error("http://h/?wait=true", { method: "DELETE" })).toMatchObject({ errorCode: 209, cause: '"wait" can only be used with GET requests' });
    expect(await error("http://h/?prevValue=")).toMatchObject({ errorCode: 201 });
    expect(await error("http://h/?ttl=-1")).toMatchObject({ errorCode: 202 });
    expect(await error("http://h/?prevExist=x")).toMatchObject({ errorCode: 209, cause: "invalid value for prevExist" });
    expect(await error("http://h/?refresh=true&value=v&ttl=1")).toMatchObject({ errorCode: 211 });
    expect(await error("http://h/?refresh=true")).toMatchObject({ errorCode: 212 });
    expect(await error("http://h/?a=%zz")).toMatchObject({ errorCode: 210, cause: 'invalid URL escape "%zz"' });
  });
});
