/**
 * The bytes a BFTP key login signs (PROTOCOL.md §8.2.1): a label no SSH signature starts with,
 * the server's challenge for this connection, the user and the key (an SSH public key blob),
 * each as an SSH string (uint32 length, bytes), so a signature proves one login on one
 * connection and nothing else: it is not an SSH authentication and cannot be replayed.
 */
export function loginSignedData(challenge: Buffer, user: string, key: Buffer): Buffer {
  return Buffer.concat([
    sshString(Buffer.from(KEY_LOGIN_LABEL)),
    sshString(challenge),
    sshString(Buffer.from(user)),
    sshString(key),
  ]);
}

/** The label that starts what a key login signs. */
export const KEY_LOGIN_LABEL = "bftp-publickey-login-v1";

/**
 * The hash a key's login signature uses: an `ssh-rsa` key signs with SHA-256 (OpenSSH's
 * rsa-sha2-256; SHA-1 is never accepted), other keys with the one their type defines.
 */
export function signatureHash(keyType: string): "sha256" | undefined {
  return keyType === "ssh-rsa" ? "sha256" : undefined;
}

/** Signs for a key login: a key file's private key, or a key held by ssh-agent. */
export interface KeySigner {
  /** The SSH public key blob. */
  readonly publicKey: Buffer;
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, … */
  readonly type: string;
  /** Signs `data` (raw signature bytes, as ssh2 and ssh-agent give them). */
  sign(data: Buffer): Promise<Buffer>;
}

function sshString(bytes: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}
