import fs from "node:fs/promises";
import { BftpError } from "../errors.js";
import { signatureHash, type KeySigner } from "../protocol/key-login.js";

/** Largest private key file read (an RSA-16384 key is about 13 KiB). */
const MAX_KEY_FILE = 64 * 1024;

/** Key types a key login may use (the server's list, PROTOCOL.md §8.2.1). */
const USABLE: ReadonlySet<string> = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
]);

/**
 * A signer for the private key in `file` (OpenSSH or PEM format, as `ssh-keygen` writes it).
 * An encrypted key needs `passphrase`; without one it is refused with `BFTP_ERR_LOCAL_FILE`
 * saying to give it, or to load the key into ssh-agent. ssh2 is loaded only here, when a key
 * is used.
 */
export async function keyFileSigner(file: string, passphrase?: string): Promise<KeySigner> {
  let text: Buffer;
  try {
    const handle = await fs.open(file, "r");
    try {
      const { size } = await handle.stat();
      if (size > MAX_KEY_FILE) throw new Error(`over ${MAX_KEY_FILE} bytes`);
      text = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    const errno = (err as { code?: unknown }).code;
    throw new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot read the key ${JSON.stringify(file)}`, {
      cause: err,
      details: typeof errno === "string" ? { errno } : {},
    });
  }
  const { default: ssh2 } = await import("ssh2");
  const parsed = ssh2.utils.parseKey(text, passphrase);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
    const encrypted = parsed instanceof Error && /passphrase|encrypted/iu.test(parsed.message);
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      encrypted
        ? `Cannot use the key ${JSON.stringify(file)}: it is encrypted; type its passphrase at a terminal, or load it into ssh-agent (ssh-add ${file})`
        : `Cannot use the key ${JSON.stringify(file)}: not an OpenSSH or PEM private key`,
    );
  }
  if (!USABLE.has(parsed.type)) {
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot use the key ${JSON.stringify(file)}: ${parsed.type} keys are not accepted (use ed25519, ecdsa or rsa)`,
    );
  }
  const hash = signatureHash(parsed.type);
  return {
    publicKey: parsed.getPublicSSH(),
    type: parsed.type,
    sign: (data) => Promise.resolve(parsed.sign(data, hash as never)),
  };
}

/** True when `file` holds an encrypted private key (so a passphrase should be asked for). */
export async function isEncryptedKey(file: string): Promise<boolean> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  if (text.includes("ENCRYPTED")) return true;
  if (!text.includes("BEGIN OPENSSH PRIVATE KEY")) return false;
  const { default: ssh2 } = await import("ssh2");
  const parsed = ssh2.utils.parseKey(text);
  return parsed instanceof Error && /passphrase|encrypted/iu.test(parsed.message);
}

/**
 * Signers for the usable keys ssh-agent holds at `socket` (`SSH_AUTH_SOCK`), in the agent's
 * order; none when the agent cannot be reached (10 s deadline).
 */
export async function agentSigners(socket: string): Promise<KeySigner[]> {
  const { default: ssh2 } = await import("ssh2");
  const agent = new ssh2.OpenSSHAgent(socket);
  const keys = await new Promise<ReturnType<typeof ssh2.utils.parseKey>[]>((resolve) => {
    const timer = setTimeout(() => {
      resolve([]);
    }, 10_000);
    agent.getIdentities((err, found) => {
      clearTimeout(timer);
      resolve(err !== undefined && err !== null ? [] : ((found ?? []) as never));
    });
  });
  const signers: KeySigner[] = [];
  for (const key of keys) {
    if (key instanceof Error || Array.isArray(key) || !USABLE.has(key.type)) continue;
    const hash = signatureHash(key.type);
    signers.push({
      publicKey: key.getPublicSSH(),
      type: key.type,
      sign: (data) =>
        new Promise((resolve, reject) => {
          agent.sign(key, data, hash === undefined ? {} : { hash }, (err, signature) => {
            if (err !== undefined && err !== null) {
              reject(
                new BftpError("BFTP_ERR_LOCAL_FILE", "Cannot sign with ssh-agent", { cause: err }),
              );
            } else resolve(signature as Buffer);
          });
        }),
    });
  }
  return signers;
}
