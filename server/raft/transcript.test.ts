/**
 * Raft behaviour pinned in readable transcripts (server/raft/transcript/testdata/*.txt): each file
 * is a scenario of commands against RawNodes on MemoryStorage with the output they must print
 * (server/raft/transcript/env.ts lists the commands). A change in behaviour shows as a diff of
 * that text. After a deliberate change, rewrite the expected output and read the diff:
 *
 *     RAFT_TRANSCRIPT_REWRITE=1 npx bun test ./server/raft/transcript.test.ts && git diff server/raft/transcript
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TranscriptEnv } from "./transcript/env.ts";
import { formatTranscript, parseCommand, parseTranscript } from "./transcript/format.ts";

const DIR = join(import.meta.dir, "transcript", "testdata");
const REWRITE = process.env.RAFT_TRANSCRIPT_REWRITE === "1";

for (const file of readdirSync(DIR).filter((f) => f.endsWith(".txt")).sort()) {
  test(`transcript ${file}`, () => {
    const path = join(DIR, file);
    const blocks = parseTranscript(readFileSync(path, "utf8"), file);
    const env = new TranscriptEnv();
    const outputs = blocks.map((b) => {
      try {
        return env.run(parseCommand(b.command));
      } catch (e) {
        throw new Error(`${file}:${b.line}: ${b.command}: ${(e as Error).stack}`);
      }
    });
    if (REWRITE) {
      writeFileSync(path, formatTranscript(blocks, outputs));
      return;
    }
    // Compared block by block so a failure names the command whose output changed.
    blocks.forEach((b, i) => expect(`${file}:${b.line}: ${b.command}\n${outputs[i]!.join("\n")}`).toBe(`${file}:${b.line}: ${b.command}\n${b.expected.join("\n")}`));
  });
}
