import type net from "node:net";
import type { DataPhaseReader } from "../protocol/data-phase-reader.js";
import type { StreamReader } from "../wire/stream-reader.js";
import type { Account, Accounts } from "./accounts/accounts.js";
import type { ChecksumCache } from "./checksum-cache.js";
import type { ServerLimits } from "./limits.js";
import type { Logger } from "./logger.js";
import type { ServerMetrics } from "./metrics.js";
import type { Anchor, OpenedInside, Sandbox } from "./sandbox.js";
import type { Storage } from "./storage/storage.js";
import type { UploadStaging } from "./upload-staging.js";

/**
 * What a command handler sees of its session: the sandbox, the connection, the session's
 * state, and how to reply. One file per command in `commands/` works through this and
 * nothing else.
 */
export interface CommandContext {
  /** The logged-in account's sandbox (its root); the server's root before login. */
  readonly sandbox: Sandbox;
  /**
   * The logged-in account's files (the served root's before login), through the storage
   * interface both front ends share (storage/storage.ts).
   */
  readonly storage: Storage;
  /** The server's accounts: LOGIN checks passwords through them. */
  readonly accounts: Accounts;
  readonly limits: ServerLimits;
  readonly log: Logger;
  /** What operators count (metrics.ts); nothing without --metrics. */
  readonly metrics: ServerMetrics;
  /** Whole-file checksums GET has computed, shared by every session. */
  readonly checksums: ChecksumCache;
  /** Where uploads are written until they are committed (upload-staging.ts). */
  readonly staging: UploadStaging;
  readonly socket: net.Socket;
  readonly reader: StreamReader;
  /** "address:port" of the client, for logs. */
  readonly peer: string;
  /** The virtual working directory. */
  cwd: string;
  /** The logged-in user, or undefined before authentication. */
  readonly user: string | undefined;
  /** The logged-in account (its root and permissions), or undefined before authentication. */
  readonly account: Account | undefined;
  /** Failed LOGINs on this connection so far. */
  loginFailures: number;
  /**
   * The challenge a key LOGIN's first step sent (PROTOCOL.md §8.2.1), for the user and key it
   * names; used once, by the next LOGIN.
   */
  loginChallenge:
    { readonly user: string; readonly key: string; readonly challenge: Buffer } | undefined;
  /** Makes `account` the session's identity: its root becomes `/` and the working directory. */
  logIn(account: Account): void;
  /** Whether HELLO has been answered. */
  helloDone: boolean;
  /** Set by a download that an ABORT stopped; read and cleared by ABORT. */
  transferAborted: boolean;
  /**
   * True once a shutdown's grace is nearly spent (BftpServer.close): a running download ends
   * with a BFTP_ERR_SHUTTING_DOWN trailer at its next frame (issue 11, item 10d).
   */
  readonly windingDown: boolean;
  /** Set by QUIT: the session closes after this reply. */
  quitting: boolean;
  /**
   * For PUT: the data phase that follows the request. (A command that must end the connection
   * after its error reply throws a BftpError with `connectionUsable: false`.)
   */
  readonly upload: DataPhaseReader | undefined;
  /**
   * The next request's frame if it has fully arrived, consuming nothing: the first request
   * the session has read ahead to prepare, else the next complete frame in the reader.
   */
  nextRequest(): Buffer | undefined;
  /** Opens what a client path names, checked through its descriptor (Sandbox.openInside). */
  openInside(input: string, flags: number): Promise<OpenedInside>;
  /** Opens the directory holding a client path's last name, checked (Sandbox.anchor). */
  anchor(input: string): Promise<Anchor>;
  /** The reply frame for `fields` (`ok: true` and the request's tag added). */
  replyFrame(fields: Readonly<Record<string, unknown>>): Buffer;
  /** Sends the reply for `fields` in one write. */
  reply(fields: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * Registers a temporary file to delete if the session ends before it is committed;
   * returns the function that unregisters it.
   */
  trackTemp(path: string): () => void;
}
