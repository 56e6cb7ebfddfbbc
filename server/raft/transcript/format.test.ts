import { expect, test } from "bun:test";
import { formatTranscript, parseCommand, parseTranscript } from "./format.ts";

const TEXT = "# a comment\n# two lines\ncampaign 1\n----\nINFO one\nINFO two\n\nstatus 1\n----\nok\n";

test("blocks: comments, command, expected output; written back byte for byte", () => {
  const blocks = parseTranscript(TEXT, "t.txt");
  expect(blocks).toEqual([
    { comments: ["# a comment", "# two lines"], command: "campaign 1", line: 3, expected: ["INFO one", "INFO two"] },
    { comments: [], command: "status 1", line: 8, expected: ["ok"] },
  ]);
  expect(formatTranscript(blocks)).toBe(TEXT);
  expect(formatTranscript(blocks, [["new"], ["ok"]])).toBe(TEXT.replace("INFO one\nINFO two", "new"));
});

test("a command without its ---- line is refused with the file and line", () => {
  expect(() => parseTranscript("campaign 1\n----\nok\n\nstatus 1\nok\n", "t.txt")).toThrow('t.txt:5: "status 1" is not followed by a ---- line');
});

test("commands: words and key=value options", () => {
  expect(parseCommand("add-nodes 3 prevote=true  join=true")).toEqual({ name: "add-nodes", words: ["3"], options: new Map([["prevote", "true"], ["join", "true"]]) });
});
