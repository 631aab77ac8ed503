import { BftpError } from "../errors.js";
import { DEFAULT_PORT } from "../protocol/version.js";

/** A parsed `bftp://[user@]host[:port]/path` location. */
export interface Location {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  /** The remote path, "/" when absent; percent-escapes decoded. */
  readonly path: string;
}

/**
 * Parses a bftp location. IPv6 hosts go in brackets (`bftp://[::1]:9921/x`); the path is
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
    throw invalid(text, "not a URL");
  }
  if (url.protocol !== "bftp:") throw invalid(text, 'it must start with "bftp://"');
  if (url.hostname === "") throw invalid(text, "it names no host");
  if (url.password !== "")
    throw invalid(text, "passwords do not belong in locations (they end up in shell history)");
  const port = url.port === "" ? DEFAULT_PORT : Number(url.port);
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
    user: url.username === "" ? undefined : decodeURIComponent(url.username),
    path,
  };
}

/** True when `text` looks like a bftp location rather than a local path. */
export function isLocation(text: string): boolean {
  return text.startsWith("bftp://");
}

function invalid(text: string, why: string): BftpError {
  return new BftpError(
    "BFTP_ERR_INVALID_ARGUMENT",
    `Cannot use location ${JSON.stringify(text)}: ${why}`,
  );
}
