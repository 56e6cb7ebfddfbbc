import { expect, test } from "bun:test";
import { createLogger } from "./log.ts";

test("zap-style JSON lines, level filter, caller, fields", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (l) => lines.push(l), now: () => new Date("2026-01-02T03:04:05.678Z") });
  log.debug("hidden");
  log.info("ready to serve client requests", { "local-member-id": "8e9e05c52164694d", rev: 5n, err: new Error("boom") });
  log.with({ name: "m1" }).warn("w");
  expect(lines.length).toBe(2);
  expect(lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
  const first = JSON.parse(lines[0]!);
  expect(Object.keys(first).slice(0, 4)).toEqual(["level", "ts", "caller", "msg"]);
  expect(first).toEqual({
    level: "info",
    ts: "2026-01-02T03:04:05.678Z",
    caller: expect.stringMatching(/^server\/log\.test\.ts:\d+$/),
    msg: "ready to serve client requests",
    "local-member-id": "8e9e05c52164694d",
    rev: "5",
    err: "boom",
  });
  expect(JSON.parse(lines[1]!)).toMatchObject({ level: "warn", msg: "w", name: "m1" });
  const errorsOnly: string[] = [];
  const quiet = createLogger({ level: "error", write: (l) => errorsOnly.push(l) });
  quiet.warn("no");
  quiet.fatal("yes");
  expect(errorsOnly.map((l) => JSON.parse(l).level)).toEqual(["fatal"]);
});
