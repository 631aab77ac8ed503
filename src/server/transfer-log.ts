import type { Logger } from "./logger.js";
import type { FrontEnd, ServerMetrics } from "./metrics.js";

/** One finished transfer as the log line says it (docs/operations.md). */
export interface TransferLine {
  readonly front: FrontEnd;
  readonly direction: "get" | "put";
  /** A file (GET, PUT, an SFTP handle) or a tree stream (GETTREE, PUTTREE). */
  readonly kind: "file" | "tree";
  readonly peer: string;
  /** The account, or "anonymous"; undefined before login. */
  readonly user: string | undefined;
  readonly path: string;
  /** Bytes of file data moved. */
  readonly bytes: number;
  readonly ms: number;
  /** "ok", or the error code the transfer ended with. */
  readonly result: string;
  readonly offset?: number;
  /** Trees: files sent or received, committed, failed, held back by the offer. */
  readonly files?: number;
  readonly committed?: number;
  readonly failed?: number;
  readonly held?: number;
}

/**
 * Reports a finished transfer: exactly one `transfer` log line (issue 15, item 4) and the
 * transfer metrics. Every front end's transfers end here.
 */
export function logTransfer(log: Logger, metrics: ServerMetrics, line: TransferLine): void {
  log.info("transfer", { ...line });
  metrics.transfer(line);
}
