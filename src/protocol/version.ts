/** The protocol version this build speaks (PROTOCOL.md §8.1). */
export const PROTOCOL_VERSION = 1;

/** The default TCP port (PROTOCOL.md §1). */
export const DEFAULT_PORT = 9921;

/** The default port of BFTP over TLS, `bftps://` and `bftp serve --tls` (PROTOCOL.md §1.1). */
export const DEFAULT_TLS_PORT = 9922;

/**
 * The default port of `bftp serve --sftp` (issue 14): next to BFTP's two, unprivileged, and
 * not 22 (the machine's own sshd) nor 2022 (SFTPGo's, which may run beside bftp).
 */
export const DEFAULT_SFTP_PORT = 9923;

/** Checksum algorithms a data phase may use (PROTOCOL.md §9). */
export const CHECKSUM_ALGORITHMS = ["crc32", "sha256"] as const;

/** A checksum algorithm name. */
export type ChecksumAlg = (typeof CHECKSUM_ALGORITHMS)[number];

/** What this build supports beyond the base protocol, announced in HELLO. */
export const CAPABILITIES = [
  "pipelining",
  "resume",
  "range",
  "abort",
  "mkdir-parents",
  "tree",
  "puttree",
  "tree-list",
  "puttree-offer",
] as const;

/** A capability a server may announce in HELLO. */
export type Capability = (typeof CAPABILITIES)[number];

/** The name the protocol gives a session without an account (PROTOCOL.md §8.2). */
export const ANONYMOUS = "anonymous";
