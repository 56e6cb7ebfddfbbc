import { expect, test } from "bun:test";
import { goJsonSyntaxError } from "./go-json-syntax.ts";

// Each message was read off etcd 3.4.23's gateway (`curl -X POST /v3/kv/range -d <body>`).
const CASES: [string, string | undefined][] = [
  ["{bad", "invalid character 'b' looking for beginning of object key string"],
  ['{"key":"YQ==', "unexpected EOF"],
  ['{"a" 1}', "invalid character '1' after object key"],
  ['{"a":1 "b"}', `invalid character '"' after object key:value pair`],
  ["tru", "unexpected EOF"],
  ["trux", "invalid character 'x' in literal true (expecting 'e')"],
  ['{"a":-}', "invalid character '}' in numeric literal"],
  ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
  ['{"a":1e}', "invalid character '}' in exponent of numeric literal"],
  ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
  ["x", "invalid character 'x' looking for beginning of value"],
  ['{"a":nul}', "invalid character '}' in literal null (expecting 'l')"],
  ['{"a":[1,]}', "invalid character ']' looking for beginning of value"],
  ['{"key":"YQ=="} garbage', undefined],
  ['{"a":{"b":[1,-2.5e+3,true,null,"\\u00e9"]}}', undefined],
];

test.each(CASES)("%p", (body, message) => {
  expect(goJsonSyntaxError(body)).toBe(message);
});
