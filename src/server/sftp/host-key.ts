import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import ssh2 from "ssh2";
import { writePrivateFile } from "../../config-dir.js";
import { BftpError } from "../../errors.js";
import { sshFingerprint } from "../accounts/public-keys.js";

/** The SFTP host key's file in the configuration folder (mode 0600), as OpenSSH names its own. */
export const HOST_KEY_FILE = "ssh_host_ed25519_key";

/** Largest host key file read: an OpenSSH Ed25519 key is about 400 bytes. */
const MAX_KEY_BYTES = 64 * 1024;

/** The key the SFTP front end proves itself with. */
export interface HostKey {
  /** The private key, OpenSSH format. */
  readonly privateKey: string;
  /** The public key as one `known_hosts` / `authorized_keys` line: `ssh-ed25519 AAAA… comment`. */
  readonly publicLine: string;
  /** OpenSSH's form, `SHA256:` and the unpadded base64 of the public key blob's SHA-256. */
  readonly fingerprint: string;
  readonly file: string;
  /** True when this call created the key (first start). */
  readonly created: boolean;
}

/**
 * The server's SFTP host key in the configuration folder `dir`: an Ed25519 key created on
 * first start (written atomically, mode 0600, with its `.pub` beside it) and reused, so the
 * fingerprint clients stored in `known_hosts` stays valid. A key that is unreadable, not a
 * private key, or readable by others is refused, never silently replaced.
 */
export async function loadOrCreateHostKey(dir: string): Promise<HostKey> {
  const file = path.join(dir, HOST_KEY_FILE);
  let created = false;
  let text = await readKeyFile(file);
  if (text === undefined) {
    const pair = generateHostKey();
    await writePrivateFile(file, pair.private);
    await fs.writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
    created = true;
    // Read back what is on disk: if another server raced us to create it, theirs is the one.
    text = (await readKeyFile(file)) ?? pair.private;
  }
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot use the SFTP host key ${JSON.stringify(file)}: it is not an unencrypted OpenSSH private key; restore it, or delete it to make a new one (clients will then see a changed host key)`,
    );
  }
  const blob = parsed.getPublicSSH();
  const publicLine = `${parsed.type} ${blob.toString("base64")}`;
  return { privateKey: text, publicLine, fingerprint: sshFingerprint(blob), file, created };
}

/**
 * A new Ed25519 key pair that ssh2 can read back. About 1 in 300 of the private keys ssh2's
 * generateKeyPairSync writes fail its own parseKey ("Malformed OpenSSH private key"): written
 * to disk, such a key stopped the first start with BFTP_ERR_LOCAL_FILE, and every start after.
 */
function generateHostKey(): { private: string; public: string } {
  for (let attempt = 1; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment: `bftp@${os.hostname()}` });
    const parsed = ssh2.utils.parseKey(pair.private);
    if (!(parsed instanceof Error) && !Array.isArray(parsed) && parsed.isPrivateKey()) return pair;
    if (attempt === 10) throw new BftpError("BFTP_ERR_INTERNAL", "Cannot make an SFTP host key");
  }
}

/** The key file's text, or undefined when there is none; refused when others may read it. */
async function readKeyFile(file: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await fs.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return undefined;
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot read the SFTP host key ${JSON.stringify(file)}`,
      {
        cause: err,
      },
    );
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > MAX_KEY_BYTES) {
      throw new BftpError(
        "BFTP_ERR_LOCAL_FILE",
        `Cannot use the SFTP host key ${JSON.stringify(file)}: not a key file`,
      );
    }
    if ((stats.mode & 0o077) !== 0) {
      throw new BftpError(
        "BFTP_ERR_INSECURE_FILE",
        `Cannot use the SFTP host key ${JSON.stringify(file)}: others may read it (mode ${(stats.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
