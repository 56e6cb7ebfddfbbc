import { describe, expect, test } from "bun:test";
import { hashPassword, verifyPassword } from "./password.ts";

describe("bcrypt passwords with Go's semantics", () => {
  test("ordinary, empty and long passwords", async () => {
    const h = await hashPassword("secret", 4);
    expect(h).toMatch(/^\$2[ab]\$04\$/);
    expect(await verifyPassword("secret", h)).toBe(true);
    expect(await verifyPassword("Secret", h)).toBe(false);
    expect(await verifyPassword("", h)).toBe(false);

    const empty = await hashPassword("", 4);
    expect(await verifyPassword("", empty)).toBe(true);
    expect(await verifyPassword("x", empty)).toBe(false);

    // Only the first 72 bytes count, as in golang.org/x/crypto/bcrypt.
    const long = await hashPassword("p".repeat(100), 4);
    expect(await verifyPassword("p".repeat(72), long)).toBe(true);
    expect(await verifyPassword("p".repeat(71), long)).toBe(false);
    const h72 = await hashPassword("q".repeat(72), 4);
    expect(await verifyPassword("q".repeat(80), h72)).toBe(true);
  });

  test("hashes made by Go's bcrypt ($2a$) verify (x/crypto/bcrypt test vectors)", async () => {
    expect(await verifyPassword("allmine", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga")).toBe(true);
    expect(await verifyPassword("allmine!", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga")).toBe(false);
    expect(await verifyPassword("", "")).toBe(false);
    expect(await verifyPassword("x", "not a hash")).toBe(false);
  });
});
