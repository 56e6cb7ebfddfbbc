/**
 * The password readers' Go semantics on piped input: speakeasy's line (trailing `\r` dropped,
 * white space trimmed) and `fmt.Scanf("%s")`'s first word of the first line.
 */
import { describe, expect, test } from "bun:test";
import { captureOutput } from "./output.ts";
import { askPassword, goTrimSpace, scanWord } from "./password.ts";
import { stdinFrom } from "./stdin.ts";

describe("scanWord (fmt.Scanf(\"%s\"))", () => {
  test("the first word after leading spaces; nothing when the line or the input ends first", async () => {
    expect(await scanWord(stdinFrom("  pw rest\nnext\n"))).toBe("pw");
    expect(await scanWord(stdinFrom("pw"))).toBe("pw");
    expect(await scanWord(stdinFrom("\npw\n"))).toBe("");
    expect(await scanWord(stdinFrom("  \r\npw\n"))).toBe("");
    expect(await scanWord(stdinFrom(""))).toBe("");
    expect(await scanWord(stdinFrom("\u00a0wörd\u3000x"))).toBe("wörd");
  });
});

describe("askPassword (speakeasy.Ask) on piped input", () => {
  test("prompt, then a newline on stdout; the line trimmed; lines read one at a time", async () => {
    const { out, stdout } = captureOutput();
    const stdin = stdinFrom(" spaced pw \r\nsecond\n");
    expect(await askPassword("Password: ", out, stdin)).toBe("spaced pw");
    expect(await askPassword("Again: ", out, stdin)).toBe("second");
    expect(await askPassword("Third: ", out, stdin)).toBe("");
    expect(new TextDecoder().decode(stdout())).toBe("Password: \nAgain: \nThird: \n");
  });

  test("goTrimSpace trims Unicode white space but not U+FEFF (unlike String.trim)", () => {
    expect(goTrimSpace("\t\u0085 x y\u2029\n")).toBe("x y");
    expect(goTrimSpace("\ufeffx")).toBe("\ufeffx");
  });
});
