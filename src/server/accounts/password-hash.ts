import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import * as z from "zod";
import { BftpError } from "../../errors.js";

/**
 * scrypt's cost parameters, stored with each hash so they can be raised later without
 * invalidating old hashes (issue 7). `logN` is log2 of scrypt's N.
 */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** A stored password: the parameters, the random salt and the derived key (base64). */
export interface PasswordHash extends ScryptParams {
  readonly alg: "scrypt";
  readonly salt: string;
  readonly hash: string;
}

/**
 * The default: N = 2^15, r = 8, p = 1 needs 128·N·r = 32 MiB and about 0.1 s of one core:
 * the OWASP recommendation for scrypt, and what `bftp user add` writes.
 */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 1 };

/**
 * Most memory one hash may take, whatever the users file says (a hand-edited file cannot make
 * one login allocate gigabytes): 64 MiB, twice the default.
 */
export const MAX_SCRYPT_MEMORY = 64 * 1024 * 1024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/u);

/** The schema of a stored hash; bounds keep every hash's memory under {@link MAX_SCRYPT_MEMORY}. */
export const passwordHashSchema = z
  .strictObject({
    alg: z.literal("scrypt"),
    logN: z.number().int().min(1).max(20),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: base64.min(16).max(128),
    hash: base64.min(16).max(128),
  })
  .refine((h) => scryptMemory(h) <= MAX_SCRYPT_MEMORY, {
    message: `the scrypt parameters need more than ${MAX_SCRYPT_MEMORY} bytes`,
  });

/** Bytes scrypt allocates for `params` (OpenSSL's own count: 128·r·(N + p + 2)). */
export function scryptMemory(params: ScryptParams): number {
  return 128 * params.r * (2 ** params.logN + params.p + 2);
}

/**
 * Derives the key for `password` with `params` and `salt`. `maxmem` is set to exactly what
 * the parameters need, so the bound is explicit rather than Node's default.
 */
export function deriveKey(
  password: string,
  salt: Buffer,
  params: ScryptParams,
  keyLength: number,
): Promise<Buffer> {
  const options = {
    N: 2 ** params.logN,
    r: params.r,
    p: params.p,
    maxmem: scryptMemory(params),
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, keyLength, options, (err, key) => {
      if (err === null) resolve(key);
      else reject(new BftpError("BFTP_ERR_INTERNAL", "Cannot hash a password", { cause: err }));
    });
  });
}

/**
 * A new stored hash of `password`, with a random salt.
 *
 * @example
 * const stored = await hashPassword("correct horse"); // { alg: "scrypt", logN: 15, ... }
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<PasswordHash> {
  if (scryptMemory(params) > MAX_SCRYPT_MEMORY) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot hash with N = 2^${params.logN}, r = ${params.r}: more than ${MAX_SCRYPT_MEMORY} bytes`,
    );
  }
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, params, KEY_BYTES);
  return { alg: "scrypt", ...params, salt: salt.toString("base64"), hash: key.toString("base64") };
}

/**
 * True when `password` matches `stored`. The comparison takes the same time wherever the keys
 * differ (`timingSafeEqual`); the time to derive the key depends only on the parameters.
 */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, "base64");
  const key = await deriveKey(
    password,
    Buffer.from(stored.salt, "base64"),
    stored,
    expected.length,
  );
  return timingSafeEqual(key, expected);
}
