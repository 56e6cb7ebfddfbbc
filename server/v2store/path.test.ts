import { expect, test } from "bun:test";
import { cleanPath } from "./path.ts";

/** Go's path.Clean(path.Join("/", p)) by the book: empty and `.` components dropped, `..` drops the one before. */
function reference(p: string): string {
  const kept = p.split("/").reduce<string[]>((out, part) => (part === ".." ? out.slice(0, -1) : part === "" || part === "." ? out : [...out, part]), []);
  return `/${kept.join("/")}`;
}

test("cleanPath agrees with path.Clean on every path of up to 7 characters from / . a _", () => {
  const alphabet = ["/", ".", "a", "_"];
  let paths = [""];
  let compared = 0;
  let unchanged = 0;
  for (let len = 0; len <= 7; len++) {
    for (const p of paths) {
      const cleaned = cleanPath(p);
      expect(cleaned).toBe(reference(p));
      if (cleaned === p) unchanged++;
      compared++;
    }
    paths = paths.flatMap((p) => alphabet.map((c) => p + c));
  }
  expect(compared).toBe((4 ** 8 - 1) / 3);
  // Both branches ran: clean paths returned as they are, the others rebuilt.
  expect(unchanged).toBeGreaterThan(100);
  expect(compared - unchanged).toBeGreaterThan(10_000);
});
