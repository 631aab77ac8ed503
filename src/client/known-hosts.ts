import fs from "node:fs/promises";
import path from "node:path";
import { configDir, writePrivateFile } from "../config-dir.js";
import { BftpError } from "../errors.js";
import { parseFingerprint } from "../protocol/fingerprint.js";

/** The file name of the pinned fingerprints in the client's configuration folder. */
export const KNOWN_HOSTS_FILE = "known_hosts";

/** Largest known_hosts read: a hundred bytes a server, ten thousand servers. */
const MAX_KNOWN_HOSTS_BYTES = 1 << 20;

const HEADER =
  "# bftp known_hosts: servers whose TLS certificate this client trusts (docs/security.md).\n" +
  "# One server a line: HOST:PORT, a space, the SHA-256 fingerprint of its certificate.\n";

/** One line of a known_hosts file. */
export interface KnownHost {
  /** `host:port` as {@link hostKey} writes it. */
  readonly host: string;
  /** Canonical `SHA256:AA:BB:...`. */
  readonly fingerprint: string;
  /** 1-based line number, for messages that say which line to edit. */
  readonly line: number;
}

/** The default known_hosts: `known_hosts` in {@link configDir}. */
export function defaultKnownHostsFile(): string {
  return path.join(configDir(), KNOWN_HOSTS_FILE);
}

/**
 * How a server is named in known_hosts: the host as written in the location (not its
 * address, like ssh), lower case, IPv6 in brackets, and the port: `files.local:9922`,
 * `[::1]:9922`.
 */
export function hostKey(host: string, port: number): string {
  const name = host.toLowerCase();
  return name.includes(":") ? `[${name}]:${port}` : `${name}:${port}`;
}

/**
 * Parses known_hosts text: `HOST:PORT FINGERPRINT` a line, blank lines and `#` comments
 * ignored. A malformed line is an error naming it, not skipped: a pin that silently does not
 * count is worse than none.
 */
export function parseKnownHosts(text: string, file: string): KnownHost[] {
  const hosts: KnownHost[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const [host = "", fingerprint = "", ...rest] = line.split(/\s+/);
    const canonical = parseFingerprint(fingerprint);
    if (
      !/^(\[[^\]\s]+\]|[^:\s[\]]+):\d{1,5}$/.test(host) ||
      canonical === undefined ||
      rest.length > 0
    ) {
      throw new BftpError(
        "BFTP_ERR_LOCAL_FILE",
        `Cannot read ${JSON.stringify(file)}: line ${i + 1} is not "HOST:PORT SHA256:FINGERPRINT"; correct or delete it`,
        { details: { file, line: i + 1 } },
      );
    }
    hosts.push({ host: host.toLowerCase(), fingerprint: canonical, line: i + 1 });
  }
  return hosts;
}

/** The entries of `file`; none when it does not exist. */
export async function readKnownHosts(file: string): Promise<KnownHost[]> {
  const text = await readText(file);
  return text === undefined ? [] : parseKnownHosts(text, file);
}

/**
 * Pins `fingerprint` for `host` (a {@link hostKey}) at the end of `file`, created when
 * missing; the file is rewritten atomically with mode 0600. Returns the line number.
 */
export async function addKnownHost(
  file: string,
  host: string,
  fingerprint: string,
): Promise<number> {
  const before = (await readText(file)) ?? HEADER;
  const text = before === "" || before.endsWith("\n") ? before : `${before}\n`;
  await writePrivateFile(file, `${text}${host} ${fingerprint}\n`);
  return text.split("\n").length;
}

async function readText(file: string): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw localFile(file, err);
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_KNOWN_HOSTS_BYTES) {
      throw new BftpError(
        "BFTP_ERR_LOCAL_FILE",
        `Cannot read ${JSON.stringify(file)}: larger than ${MAX_KNOWN_HOSTS_BYTES} bytes`,
        { details: { file } },
      );
    }
    return await handle.readFile("utf8");
  } catch (err) {
    if (err instanceof BftpError) throw err;
    throw localFile(file, err);
  } finally {
    await handle.close();
  }
}

function localFile(file: string, err: unknown): BftpError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot read ${JSON.stringify(file)}: ${code}`, {
    cause: err,
    details: { file },
  });
}
