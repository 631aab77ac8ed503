import { createHash, timingSafeEqual } from "node:crypto";
import { createRequire } from "node:module";
import { BftpError } from "../../errors.js";
import { signatureHash } from "../../protocol/key-login.js";

/**
 * ssh2, loaded on first use: the users file is read by `bftp serve` and `bftp user`, and
 * neither should load the SSH library before a key is parsed (start-up, issue 12 item 4).
 */
const requireCjs = createRequire(import.meta.url);
function ssh2Utils(): (typeof import("ssh2"))["utils"] {
  return (requireCjs("ssh2") as typeof import("ssh2")).utils;
}

/** Key types an account may log in with: what OpenSSH offers by default today. */
export const KEY_TYPES: ReadonlySet<string> = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
]);

/** Fewest bits an RSA key may have (OpenSSH refuses less than 1024; NIST asks for 2048). */
const MIN_RSA_BITS = 2048;

/** Most keys one account may have. */
export const MAX_KEYS_PER_USER = 100;

/** Longest `authorized_keys` line accepted (an RSA-16384 line is about 2,800 bytes). */
export const MAX_KEY_LINE = 8192;

/** One public key of an account, as `bftp user keys` lists it. */
export interface PublicKey {
  readonly type: string;
  /** The SSH wire-format public key blob. */
  readonly blob: Buffer;
  /** OpenSSH's `SHA256:…` fingerprint of the blob. */
  readonly fingerprint: string;
  readonly comment: string;
  /** The line as stored: `TYPE BASE64 [COMMENT]`. */
  readonly line: string;
}

/**
 * Parses one OpenSSH `authorized_keys` line (`TYPE BASE64 [COMMENT]`; options before the type
 * are refused: bftp has none to honour). Throws `BFTP_ERR_INVALID_ARGUMENT` saying why.
 */
export function parseAuthorizedKey(input: string): PublicKey {
  const line = input.trim();
  const bad = (why: string): BftpError =>
    new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot use key ${JSON.stringify(line.slice(0, 60))}: ${why}`,
    );
  if (Buffer.byteLength(line) > MAX_KEY_LINE) throw bad(`the line is over ${MAX_KEY_LINE} bytes`);
  const [type = "", base64 = "", ...rest] = line.split(/\s+/u);
  if (!KEY_TYPES.has(type)) {
    throw bad(
      `expected an OpenSSH public key line starting with one of ${[...KEY_TYPES].join(", ")}`,
    );
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/u.test(base64)) throw bad("the key is not base64");
  const parsed = ssh2Utils().parseKey(`${type} ${base64}`);
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.isPrivateKey()) {
    throw bad("it is not a public key");
  }
  if (parsed.type !== type) throw bad(`the key inside is ${parsed.type}, not ${type}`);
  if (type === "ssh-rsa") {
    const bits = rsaBits(parsed.getPublicSSH());
    if (bits < MIN_RSA_BITS)
      throw bad(`an RSA key needs at least ${MIN_RSA_BITS} bits; this one has ${bits}`);
  }
  const blob = parsed.getPublicSSH();
  const comment = rest.join(" ");
  return {
    type,
    blob,
    fingerprint: sshFingerprint(blob),
    comment,
    line: comment === "" ? `${type} ${base64}` : `${type} ${base64} ${comment}`,
  };
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` and unpadded base64. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/u, "")}`;
}

/** True when `blob` is one of `keys` (compared in constant time per key). */
export function holdsKey(keys: readonly Buffer[], blob: Buffer): boolean {
  let found = false;
  for (const key of keys) {
    if (key.length === blob.length && timingSafeEqual(key, blob)) found = true;
  }
  return found;
}

/** True when `signature` (raw, as ssh2 and ssh-agent give it) signs `data` with `blob`'s key. */
export function verifySignature(blob: Buffer, data: Buffer, signature: Buffer): boolean {
  const key = ssh2Utils().parseKey(blob);
  if (key instanceof Error || Array.isArray(key)) return false;
  try {
    return key.verify(data, signature, signatureHash(key.type));
  } catch {
    return false;
  }
}

/** The modulus size of an `ssh-rsa` blob: string type, mpint e, mpint n. */
function rsaBits(blob: Buffer): number {
  let at = 0;
  const next = (): Buffer => {
    const len = blob.readUInt32BE(at);
    const value = blob.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    return value;
  };
  next(); // type
  next(); // e
  const n = next();
  const first = n.findIndex((b) => b !== 0);
  if (first < 0) return 0;
  return (n.length - first - 1) * 8 + (32 - Math.clz32(n[first] ?? 0));
}
