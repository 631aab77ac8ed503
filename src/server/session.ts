import fs from "node:fs/promises";
import type net from "node:net";
import { BftpError, isBftpError, type ErrorCode } from "../errors.js";
import { DataPhaseReader } from "../protocol/data-phase-reader.js";
import { encodeMessage, toWireError } from "../protocol/replies.js";
import { parseRequest, type Request } from "../protocol/requests.js";
import { StreamReader } from "../wire/stream-reader.js";
import { writeAll } from "../wire/write-all.js";
import type { Account, Accounts } from "./accounts/accounts.js";
import { checkPermissions } from "./accounts/permissions.js";
import type { CommandContext } from "./command-context.js";
import { descriptorOf, isOp } from "./commands/index.js";
import type { Prepared } from "./commands/prepared.js";
import type { ChecksumCache } from "./checksum-cache.js";
import type { ServerLimits } from "./limits.js";
import type { Logger } from "./logger.js";
import type { Anchor, OpenedInside, Sandbox } from "./sandbox.js";
import { DiskStorage } from "./storage/disk-storage.js";
import type { Storage } from "./storage/storage.js";
import type { ServerMetrics } from "./metrics.js";
import type { UploadStaging } from "./upload-staging.js";

/** Failures of the byte stream itself: the connection cannot go on after them. */
const STREAM_FATAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "BFTP_ERR_CONNECTION_LOST",
  "BFTP_ERR_PEER_CLOSED",
  "BFTP_ERR_UNEXPECTED_EOF",
  "BFTP_ERR_TIMEOUT",
  "BFTP_ERR_FRAME_TOO_LARGE",
  "BFTP_ERR_BAD_FRAME_HEADER",
  "BFTP_ERR_PROTOCOL",
  "BFTP_ERR_ABORTED",
  "BFTP_ERR_READ_PENDING",
]);

/**
 * Most pipelined requests prepared ahead of their turn (issue 5). Each may hold an open file
 * and, for a small GET, up to 64 KiB of its bytes: at most 1 MiB per session.
 */
const MAX_PREPARED = 16;

/** A request read ahead of its turn, its preparation under way. */
interface Ahead {
  readonly payload: Buffer;
  readonly request: Request;
  readonly prepared: Promise<Prepared>;
}

/** What the server shares with its sessions. */
export interface SessionHost {
  /** The served root, used until a login chooses an account's own. */
  readonly sandbox: Sandbox;
  readonly accounts: Accounts;
  readonly limits: ServerLimits;
  readonly log: Logger;
  readonly checksums: ChecksumCache;
  readonly staging: UploadStaging;
  readonly metrics: ServerMetrics;
  /** Aborted when the server begins to shut down. */
  readonly shutdown: AbortSignal;
  /**
   * The storage of the account whose root is given (a path from the served root), when files
   * live in an object store (issue 15); undefined on a disk, where each session makes its own
   * `DiskStorage` on the account's sandbox.
   */
  readonly objectStorage?: ((root: string) => Storage) | undefined;
}

/**
 * One client connection: reads requests one at a time (so replies leave in request order,
 * PROTOCOL.md §4.2), runs each through its command, and ends through one path, `#close`,
 * which removes any upload left uncommitted.
 */
export class Session implements CommandContext {
  readonly accounts: Accounts;
  readonly limits: ServerLimits;
  readonly log: Logger;
  readonly metrics: ServerMetrics;
  readonly checksums: ChecksumCache;
  readonly staging: UploadStaging;
  readonly socket: net.Socket;
  readonly reader: StreamReader;
  readonly peer: string;
  cwd = "/";
  account: Account | undefined;
  loginFailures = 0;
  loginChallenge:
    { readonly user: string; readonly key: string; readonly challenge: Buffer } | undefined;
  helloDone = false;
  transferAborted = false;
  windingDown = false;
  quitting = false;
  upload: DataPhaseReader | undefined;
  readonly #host: SessionHost;
  readonly #temps = new Set<string>();
  #tag: string | number | undefined;
  #requests = 0;
  /** Set once windDown() sent the fatal reply itself: nothing more is written. */
  #cut = false;
  /** Requests read ahead and being prepared, in request order (PROTOCOL.md §4.2). */
  readonly #ahead: Ahead[] = [];

  constructor(socket: net.Socket, host: SessionHost) {
    this.socket = socket;
    this.#host = host;
    this.accounts = host.accounts;
    this.limits = host.limits;
    this.log = host.log;
    this.metrics = host.metrics;
    this.checksums = host.checksums;
    this.staging = host.staging;
    this.peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    this.reader = new StreamReader(socket, { highWaterMark: host.limits.readAheadBytes });
  }

  #storage: { readonly sandbox: Sandbox; readonly storage: DiskStorage } | undefined;

  /** The logged-in account's storage; the served root's before login. */
  get storage(): Storage {
    if (this.#host.objectStorage !== undefined) {
      return this.#host.objectStorage(this.account?.root ?? "/");
    }
    const sandbox = this.sandbox;
    if (this.#storage?.sandbox !== sandbox) {
      const storage = new DiskStorage({
        sandbox,
        staging: this.staging,
        trackTemp: (file) => this.trackTemp(file),
      });
      this.#storage = { sandbox, storage };
    }
    return this.#storage.storage;
  }

  /** The logged-in account's sandbox; the served root's before login. */
  get sandbox(): Sandbox {
    return this.account?.sandbox ?? this.#host.sandbox;
  }

  get user(): string | undefined {
    return this.account?.name;
  }

  logIn(account: Account): void {
    this.metrics.session("bftp");
    this.account = account;
    this.cwd = "/";
  }

  /** Serves the connection until it ends; never rejects. */
  async run(): Promise<void> {
    const started = Date.now();
    let reason = "quit";
    try {
      await this.#loop();
    } catch (err) {
      reason = this.#fail(err);
    } finally {
      await this.#close();
      this.log.info("disconnect", {
        peer: this.peer,
        reason,
        requests: this.#requests,
        bytesIn: this.socket.bytesRead,
        bytesOut: this.socket.bytesWritten,
        ms: Date.now() - started,
      });
    }
  }

  async #loop(): Promise<void> {
    while (!this.quitting) {
      if (this.#stopping()) throw shuttingDown();
      const ahead = this.#ahead.shift(); // read ahead and prepared already, if any
      const payload = ahead?.payload ?? (await this.#nextFrame());
      this.#requests++;
      try {
        await this.#handle(payload, ahead);
      } finally {
        this.upload = undefined;
        this.#tag = undefined;
      }
    }
    this.socket.end();
  }

  /** The next request's frame: waits for it under the idle deadline, then the frame deadline. */
  async #nextFrame(): Promise<Buffer> {
    const { idleTimeoutMs, frameTimeoutMs, maxControlFrame } = this.limits;
    try {
      await this.reader.waitForData({ timeout: idleTimeoutMs, signal: this.#host.shutdown });
    } catch (err) {
      if (this.#stopping()) throw shuttingDown(); // idle sessions leave at once
      throw err;
    }
    return this.reader.readFrame({ maxSize: maxControlFrame, timeout: frameTimeoutMs });
  }

  async #handle(payload: Buffer, ahead?: Ahead): Promise<void> {
    const parsed =
      ahead === undefined ? parseRequest(payload) : { ok: true as const, request: ahead.request };
    this.#tag = parsed.ok ? parsed.request.tag : parsed.tag;
    const op = parsed.ok ? parsed.request.op : parsed.op;
    // A PUT's data phase, a GETTREE's have list or path list (§8.13), and a PUTTREE's offer
    // (§8.14) follow the request at once: the command's descriptor says, from the payload.
    const descriptor = isOp(op) ? descriptorOf(op) : undefined;
    const phase = descriptor?.phase?.(payload, parsed.ok ? parsed.request : undefined);
    if (phase !== undefined) {
      this.upload = new DataPhaseReader(this.reader, phase.alg, {
        maxChunk: this.limits.maxChunk,
        maxTrailer: this.limits.maxControlFrame, // a trailer is a control frame
        timeout: this.limits.stallTimeoutMs,
      });
    }
    try {
      if (!parsed.ok) throw parsed.error;
      this.#admit(parsed.request);
      // While this read-only request runs, the ones pipelined behind it start their work.
      if (descriptorOf(parsed.request.op).prepare !== undefined) this.#prepareAhead();
      if (ahead === undefined) await descriptorOf(parsed.request.op).run(this, parsed.request);
      else await (await ahead.prepared).run(this);
    } catch (err) {
      if (this.#cut) throw err; // the reply has been sent; the connection is ending
      const fatal =
        isBftpError(err) &&
        (STREAM_FATAL.has(err.code) ||
          err.connectionUsable === false ||
          (!parsed.ok && parsed.fatal));
      if (fatal) throw err;
      // A refused PUT still has its data phase on the wire: read it so the stream stays in step.
      if (this.upload !== undefined) await this.upload.drain(); // at once if already read
      const reply = outOfDescriptors(err) ?? err;
      if (!isBftpError(reply) || reply.status === undefined) {
        this.log.error("internal", { peer: this.peer, op: op ?? null, error: String(err) });
      }
      const wire = toWireError(reply);
      this.metrics.error("bftp", wire.code);
      await this.#send(encodeMessage(this.#withTag({ ok: false, error: wire })));
    }
  }

  /**
   * Takes the requests that have fully arrived behind the current one, as long as each is
   * one that may be prepared (GET, STAT) and admitted, and starts preparing them (issue 5).
   * Called only while a preparable request is current, so every request between it and the
   * last one taken is read-only: preparing early sees the same session state (working
   * directory, login) as preparing in turn would. It stops at anything else (a PUT, whose
   * data phase follows it; a CD; an ABORT, which must stay visible to `nextRequest`).
   */
  #prepareAhead(): void {
    const maxSize = this.limits.maxControlFrame;
    while (this.#ahead.length < MAX_PREPARED) {
      const peeked = this.reader.peekFrame({ maxSize });
      if (peeked === undefined) return;
      const parsed = parseRequest(peeked);
      if (!parsed.ok) return;
      const { prepare } = descriptorOf(parsed.request.op);
      if (prepare === undefined) return;
      try {
        this.#admit(parsed.request);
      } catch {
        return; // refused in its turn, the usual way
      }
      const payload = Buffer.from(peeked);
      // The frame is complete in the buffer, so this consumes it now, synchronously.
      this.reader.readFrame({ maxSize }).catch(() => undefined);
      const prepared = prepare(this, parsed.request);
      prepared.catch(() => undefined); // replied in turn; never an unhandled rejection
      this.#ahead.push({ payload, request: parsed.request, prepared });
    }
  }

  /** Read through a method: the flag changes while this session awaits. */
  #stopping(): boolean {
    return this.#host.shutdown.aborted;
  }

  /**
   * Refuses commands that come too early (PROTOCOL.md §3), and those the account lacks the
   * permission for (issue 7), before they touch anything.
   */
  #admit(request: Request): void {
    const { op } = request;
    const { gate, permissions } = descriptorOf(op);
    if (!this.helloDone && gate !== "any") {
      throw new BftpError("BFTP_ERR_BAD_REQUEST", `Cannot run ${op}: send HELLO first`);
    }
    if (this.user === undefined && this.helloDone && gate === "session") {
      throw new BftpError("BFTP_ERR_NOT_AUTHENTICATED", `Cannot run ${op}: log in first`);
    }
    if (this.account !== undefined) {
      checkPermissions(op, permissions(request), this.account.permissions, this.account.name);
    }
  }

  /** Ends the session after a failure; returns the reason for the log. */
  #fail(err: unknown): string {
    if (this.#cut) {
      this.socket.destroy();
      return "BFTP_ERR_SHUTTING_DOWN";
    }
    const code = isBftpError(err) ? err.code : "BFTP_ERR_INTERNAL";
    if (code === "BFTP_ERR_PEER_CLOSED") {
      // The client half-closed after its last request: every reply has been written (the
      // socket allows half-open), so now end our side too.
      this.socket.end();
      return "closed by client";
    }
    if (code === "BFTP_ERR_CONNECTION_LOST" || code === "BFTP_ERR_UNEXPECTED_EOF") {
      this.socket.destroy();
      return "connection lost";
    }
    if (!isBftpError(err)) this.log.error("internal", { peer: this.peer, error: String(err) });
    // A fatal error the client should hear about: one reply with close, then close.
    const fatal =
      code === "BFTP_ERR_PROTOCOL"
        ? new BftpError("BFTP_ERR_BAD_REQUEST", (err as Error).message)
        : err;
    const wire = toWireError(fatal);
    this.metrics.error("bftp", wire.code);
    const frame = encodeMessage(this.#withTag({ ok: false, close: true, error: wire }));
    this.socket.end(frame);
    // A client that does not read cannot hold the socket: one second to take the reply.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    return code;
  }

  async #close(): Promise<void> {
    // Requests prepared but never answered: close their files.
    const unanswered = this.#ahead.splice(0);
    await Promise.all(
      unanswered.map((ahead) =>
        ahead.prepared.then(
          (prepared) => prepared.release(),
          () => undefined,
        ),
      ),
    );
    await Promise.all(
      [...this.#temps].map((temp) =>
        fs.rm(temp, { force: true }).catch((err: unknown) => {
          this.log.warn("temp-cleanup-failed", { peer: this.peer, error: String(err) });
        }),
      ),
    );
    this.#temps.clear();
  }

  #withTag(body: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
    return this.#tag === undefined ? body : { ...body, tag: this.#tag };
  }

  #send(frame: Buffer): Promise<void> {
    return writeAll(this.socket, frame, { timeout: this.limits.stallTimeoutMs });
  }

  nextRequest(): Buffer | undefined {
    return (
      this.#ahead[0]?.payload ?? this.reader.peekFrame({ maxSize: this.limits.maxControlFrame })
    );
  }

  openInside(input: string, flags: number): Promise<OpenedInside> {
    return this.sandbox.openInside(this.cwd, input, flags);
  }

  anchor(input: string): Promise<Anchor> {
    return this.sandbox.anchor(this.cwd, input);
  }

  replyFrame(fields: Readonly<Record<string, unknown>>): Buffer {
    return encodeMessage(this.#withTag({ ok: true, ...fields }));
  }

  reply(fields: Readonly<Record<string, unknown>>): Promise<void> {
    return this.#send(this.replyFrame(fields));
  }

  trackTemp(path: string): () => void {
    this.#temps.add(path);
    return () => this.#temps.delete(path);
  }

  /**
   * The shutdown's grace is nearly spent (issue 11, item 10d): a running download ends at its
   * next frame with a BFTP_ERR_SHUTTING_DOWN trailer (see abortRequested), and an upload
   * whose data phase is still arriving gets the fatal BFTP_ERR_SHUTTING_DOWN reply now, with
   * `close`. The upload goes on reading until the client, having read the reply, closes (so
   * it is not reset before it can read it); it then ends as a lost connection, so a resumable
   * upload keeps its partial file for `-c`.
   */
  windDown(): void {
    this.windingDown = true;
    if (this.#cut || this.upload === undefined || phaseEnded(this.upload)) return;
    this.#cut = true;
    const reply = { ok: false, close: true, error: toWireError(shuttingDown()) };
    this.socket.end(encodeMessage(this.#withTag(reply)));
  }

  /** Ends the connection at once (shutdown grace expired); `run()` then cleans up. */
  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A failure caused by running out of file descriptors (EMFILE, ENFILE), however it was
 * wrapped on its way up, as the non-fatal BFTP_ERR_BUSY: a moment's shortage, which the
 * client may retry on the same connection, not an internal fault (issue 11, item 10c).
 * Commands map what they open through fsError; this catches any path that did not.
 */
function outOfDescriptors(err: unknown): BftpError | undefined {
  if (isBftpError(err, "BFTP_ERR_BUSY")) return undefined;
  let at: unknown = err;
  for (let depth = 0; depth < 8 && typeof at === "object" && at !== null; depth++) {
    const errno = (at as { code?: unknown }).code;
    if (errno === "EMFILE" || errno === "ENFILE") {
      return new BftpError(
        "BFTP_ERR_BUSY",
        "Cannot complete the request: the server has too many files open; try again",
        { cause: err },
      );
    }
    at = (at as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an upload's data phase has been read to its trailer. */
function phaseEnded(phase: DataPhaseReader): boolean {
  try {
    // `result` throws until the trailer has been read.
    return typeof phase.result.bytes === "number";
  } catch {
    return false;
  }
}

function shuttingDown(): BftpError {
  return new BftpError("BFTP_ERR_SHUTTING_DOWN", "The server is shutting down");
}

/** Runs one validated request through its command. */
