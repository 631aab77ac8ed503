/**
 * The server's limits and deadlines (PROTOCOL.md §11), each with its default and the
 * `bftp serve` flag that sets it. Defaults follow what vsftpd and pyftpdlib ship, not
 * "unlimited".
 */
export interface ServerLimits {
  /** Connections at once, overall (`--max-connections`). */
  readonly maxConnections: number;
  /** Connections at once from one address (`--max-per-ip`). */
  readonly maxPerIp: number;
  /** Longest time from a TLS connection's first byte to its completed handshake, ms (`--handshake-timeout`). */
  readonly handshakeTimeoutMs: number;
  /** Longest wait for the next request, ms (`--idle-timeout`, seconds on the command line). */
  readonly idleTimeoutMs: number;
  /** Longest time from a frame's first byte to its last, ms (`--frame-timeout`). */
  readonly frameTimeoutMs: number;
  /** Longest wait for progress during a transfer, ms (`--stall-timeout`). */
  readonly stallTimeoutMs: number;
  /** Largest request frame, bytes (`--max-control-frame`). */
  readonly maxControlFrame: number;
  /** Largest data frame, bytes (`--max-chunk`). */
  readonly maxChunk: number;
  /** Unprocessed request bytes read ahead before the server stops reading (`--read-ahead`). */
  readonly readAheadBytes: number;
  /** Longest wait for transfers to finish on shutdown, ms (`--shutdown-grace`). */
  readonly shutdownGraceMs: number;
  /**
   * The last part of that grace, ms, in which transfers still running are told the server is
   * stopping (BFTP_ERR_SHUTTING_DOWN in a download's trailer, an upload's reply) before the
   * rest is cut; capped at half the grace (issue 11, item 10d).
   */
  readonly shutdownNoticeMs: number;
  /** How long a resumable partial upload is kept, ms. */
  readonly partialTtlMs: number;
  /** Wait before replying to a failed LOGIN, ms (`--login-delay`, seconds on the command line). */
  readonly loginDelayMs: number;
  /** Failed LOGINs on one connection; the last one's reply closes it (issue 7). */
  readonly maxLoginFailures: number;
}

/** The defaults of {@link ServerLimits}. */
export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 512,
  maxPerIp: 64,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  frameTimeoutMs: 30_000,
  stallTimeoutMs: 60_000,
  maxControlFrame: 8192,
  maxChunk: 1024 * 1024,
  readAheadBytes: 256 * 1024,
  shutdownGraceMs: 10_000,
  shutdownNoticeMs: 1000,
  partialTtlMs: 24 * 60 * 60 * 1000,
  loginDelayMs: 1000,
  maxLoginFailures: 3,
};

/** Largest data frame LIST sends: one JSON array of entries. */
export const LIST_FRAME_BYTES = 64 * 1024;
