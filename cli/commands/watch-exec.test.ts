/**
 * etcdctl 3.4's Test_parseWatchArgs table (etcdctl/ctlv3/command/watch_command_test.go), every case
 * but the one that calls the interactive parser with a line not starting with `watch` (ours never does).
 */
import { expect, test } from "bun:test";
import { CtlError } from "../errors.ts";
import { parseInteractiveWatchArgs, parseWatchArgs } from "./watch-exec.ts";
import { parseWatchLine } from "./watch.ts";

interface Case {
  osArgs: string[];
  commandArgs: string[];
  envKey: string;
  envRange: string;
  interactive: boolean;
  prefix: boolean;
  rev: number;
  prevKv: boolean;
  watchArgs: string[];
  execArgs: string[];
  err: string | null;
}

const CASES: Case[] = [
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar"], "commandArgs": ["foo", "bar"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar", "--"], "commandArgs": ["foo", "bar"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments (found separator --, but no commands)"},
  {"osArgs": ["./bin/etcdctl", "watch"], "commandArgs": [], "envKey": "foo", "envRange": "bar", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo"], "commandArgs": ["foo"], "envKey": "foo", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments (found conflicting environment key)"},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar"], "commandArgs": ["foo", "bar"], "envKey": "foo", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments (found conflicting environment key)"},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar"], "commandArgs": ["foo", "bar"], "envKey": "foo", "envRange": "bar", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments (found conflicting environment key)"},
  {"osArgs": ["./bin/etcdctl", "watch", "foo"], "commandArgs": ["foo"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch"], "commandArgs": [], "envKey": "foo", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1", "foo"], "commandArgs": ["foo"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1", "foo"], "commandArgs": ["foo"], "envKey": "foo", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments (found conflicting environment key)"},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1"], "commandArgs": [], "envKey": "foo", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "--rev", "1"], "commandArgs": ["foo"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "--", "echo", "watch", "event", "received"], "commandArgs": ["foo", "echo", "watch", "event", "received"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "watch", "event", "received"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "--rev", "1", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "--rev", "1", "--", "echo", "watch", "event", "received"], "commandArgs": ["foo", "echo", "watch", "event", "received"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "watch", "event", "received"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1", "foo", "--", "echo", "watch", "event", "received"], "commandArgs": ["foo", "echo", "watch", "event", "received"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "watch", "event", "received"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "bar", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1", "foo", "bar", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "bar", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "--rev", "1", "bar", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "bar", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar", "--rev", "1", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "bar", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar", "--rev", "1", "--", "echo", "watch", "event", "received"], "commandArgs": ["foo", "bar", "echo", "watch", "event", "received"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "watch", "event", "received"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "--rev", "1", "bar", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "bar", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1", "foo", "bar", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "bar", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1", "--", "echo", "Hello", "World"], "commandArgs": ["echo", "Hello", "World"], "envKey": "foo", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "--rev", "1", "--", "echo", "Hello", "World"], "commandArgs": ["echo", "Hello", "World"], "envKey": "foo", "envRange": "bar", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "foo", "bar", "--rev", "1", "--", "echo", "Hello", "World"], "commandArgs": ["foo", "bar", "echo", "Hello", "World"], "envKey": "foo", "envRange": "", "interactive": false, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments (found conflicting environment key)"},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "bar"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch"], "envKey": "foo", "envRange": "bar", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch"], "envKey": "hello world!", "envRange": "bar", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["hello world!", "bar"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "--rev", "1"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "--rev", "1", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "1", "foo", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "5", "--prev-kv", "foo", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 5, "prevKv": true, "watchArgs": ["foo"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "1"], "envKey": "foo", "envRange": "", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "1"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments"},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "1", "--prefix"], "envKey": "foo", "envRange": "", "interactive": true, "prefix": true, "rev": 1, "prevKv": false, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "100", "--prefix", "--prev-kv"], "envKey": "foo", "envRange": "", "interactive": true, "prefix": true, "rev": 100, "prevKv": true, "watchArgs": ["foo"], "execArgs": [], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "1", "--prefix"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": [], "execArgs": [], "err": "bad number of arguments"},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--", "echo", "Hello", "World"], "envKey": "foo", "envRange": "", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--", "echo", "Hello", "World"], "envKey": "foo", "envRange": "bar", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "bar", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 0, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "1", "foo", "bar", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "--rev", "1", "--", "echo", "Hello", "World"], "envKey": "foo", "envRange": "bar", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "--rev", "1", "bar", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "bar", "--rev", "1", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": false, "rev": 1, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "bar", "--rev", "7", "--prefix", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": true, "rev": 7, "prevKv": false, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null},
  {"osArgs": ["./bin/etcdctl", "watch", "-i"], "commandArgs": ["watch", "foo", "bar", "--rev", "7", "--prefix", "--prev-kv", "--", "echo", "Hello", "World"], "envKey": "", "envRange": "", "interactive": true, "prefix": true, "rev": 7, "prevKv": true, "watchArgs": ["foo", "bar"], "execArgs": ["echo", "Hello", "World"], "err": null}
];

/** Our answer for one case: the parsed arguments, or the error text. */
function parse(c: Case): { watchArgs: string[]; execArgs: string[]; flags?: [boolean, bigint, boolean] } | string {
  try {
    if (!c.interactive) return parseWatchArgs(c.osArgs.slice(1), c.commandArgs, c.envKey, c.envRange);
    const words = c.commandArgs.slice(1);
    const { args, flags } = parseWatchLine(words);
    return { ...parseInteractiveWatchArgs(words, args, c.envKey, c.envRange), flags: [flags.bool("prefix"), flags.int64("rev"), flags.bool("prev-kv")] };
  } catch (e) {
    if (e instanceof CtlError) return e.message;
    throw e;
  }
}

test.each(CASES.map((c, i) => [i, c] as const))("etcdctl's parseWatchArgs case #%d", (_i, c) => {
  const got = parse(c);
  if (c.err !== null) {
    expect(got).toBe(c.err);
    return;
  }
  const want: { watchArgs: string[]; execArgs: string[]; flags?: [boolean, bigint, boolean] } = { watchArgs: c.watchArgs, execArgs: c.execArgs };
  if (c.interactive) want.flags = [c.prefix, BigInt(c.rev), c.prevKv];
  expect(got).toEqual(want);
});

test("the table has both modes and every error", () => {
  expect(CASES.length).toBe(49);
  expect(new Set(CASES.map((c) => c.err)).size).toBe(4);
  expect(CASES.some((c) => c.interactive && c.execArgs.length > 0)).toBe(true);
});
