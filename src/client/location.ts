import { BftpError } from "../errors.js";
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../protocol/version.js";

/** A parsed `bftp://[user@]host[:port]/path` or `bftps://...` location. */
export interface Location {
  readonly host: string;
  readonly port: number;
  /** True for `bftps://`: TLS from the first byte (PROTOCOL.md §1.1). */
  readonly tls: boolean;
  readonly user: string | undefined;
  /** The remote path, "/" when absent; percent-escapes decoded. */
  readonly path: string;
}

/**
 * Parses a bftp location; `bftps://` selects TLS and port 9922 by default. IPv6 hosts go in brackets (`bftp://[::1]:9921/x`); the path is
 * percent-decoded so names with spaces can be written `a%20b` (or quoted by the shell).
 *
 * @example
 * parseLocation("bftp://alice@files.local:9000/docs/a.txt");
 * // { host: "files.local", port: 9000, user: "alice", path: "/docs/a.txt" }
 */
export function parseLocation(text: string): Location {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The URL parser refuses a port over 65535 as it refuses garbage: say which it was.
    const port = /^bftps?:\/\/(?:[^@/]*@)?(?:\[[^\]/]*\]|[^:/[\]]*):(\d+)(?:\/|$)/u.exec(text)?.[1];
    if (port !== undefined) throw invalid(text, `its port ${port} is out of range (1 to 65535)`);
    throw invalid(text, "not a URL");
  }
  if (url.protocol !== "bftp:" && url.protocol !== "bftps:")
    throw invalid(text, 'it must start with "bftp://" or "bftps://"');
  const tls = url.protocol === "bftps:";
  if (url.hostname === "") throw invalid(text, "it names no host");
  if (url.password !== "")
    throw invalid(text, "passwords do not belong in locations (they end up in shell history)");
  const port = url.port === "" ? (tls ? DEFAULT_TLS_PORT : DEFAULT_PORT) : Number(url.port);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname === "" ? "/" : url.pathname);
  } catch {
    throw invalid(text, "its path has a broken percent-escape");
  }
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port,
    tls,
    user: url.username === "" ? undefined : decodeURIComponent(url.username),
    path,
  };
}

/** True when `text` looks like a bftp location (`bftp://` or `bftps://`) rather than a local path. */
export function isLocation(text: string): boolean {
  return text.startsWith("bftp://") || text.startsWith("bftps://");
}

function invalid(text: string, why: string): BftpError {
  return new BftpError(
    "BFTP_ERR_INVALID_ARGUMENT",
    `Cannot use location ${JSON.stringify(text)}: ${why}`,
  );
}
