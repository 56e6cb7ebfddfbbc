/**
 * bcrypt password hashes with the semantics of Go's golang.org/x/crypto/bcrypt, which etcd 3.4
 * uses: any password, the empty one included, and only its first 72 bytes count.
 *
 * `Bun.password` (native, off the main thread) hashes and checks passwords of 1 to 72 bytes; it
 * refuses the empty password and pre-hashes longer ones with SHA-512, so those two cases go to
 * `bcryptjs` (plain bcrypt in JavaScript). Both write and read standard `$2a$`/`$2b$` hashes.
 */
import bcrypt from "bcryptjs";

/** bcrypt's limit: bytes of the password that count. */
const BCRYPT_MAX_PASSWORD_BYTES = 72;

function nativeCanHash(password: string): boolean {
  const n = Buffer.byteLength(password, "utf8");
  return n > 0 && n <= BCRYPT_MAX_PASSWORD_BYTES;
}

/** A bcrypt hash of `password` at `cost` (4..31). */
export async function hashPassword(password: string, cost: number): Promise<string> {
  if (nativeCanHash(password)) return Bun.password.hash(password, { algorithm: "bcrypt", cost });
  // bcryptjs truncates to 72 bytes like Go's bcrypt.
  return bcrypt.hash(password, cost);
}

/** Whether `password` matches the bcrypt `hash`; false for an empty or malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (hash === "") return false;
  try {
    if (nativeCanHash(password)) return await Bun.password.verify(password, hash, "bcrypt");
    return await bcrypt.compare(password, hash);
  } catch {
    return false;
  }
}
