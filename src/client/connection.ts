import { once } from "node:events";
import net from "node:net";
import { BftpError, isBftpError } from "../errors.js";
import { parseReply, type ReplyBody } from "../protocol/replies.js";
import { encodeMessage } from "../protocol/replies.js";
import { slabOnread } from "../wire/slab-onread.js";
import { StreamReader } from "../wire/stream-reader.js";
import { writeAll } from "../wire/write-all.js";
import { checkServerCertificate, type TlsOptions } from "./host-trust.js";
import { expectShape, REPLY_SHAPES } from "./reply-shapes.js";

/** Limits the client applies to the server (the client treats the server as hostile). */
export interface ClientLimits {
  /** Largest reply or trailer frame accepted. */
  readonly maxReplyFrame: number;
  /** Largest data frame accepted. */
  readonly maxChunk: number;
  /** Longest wait for progress on any read or write, ms. */
  readonly stallTimeoutMs: number;
}

/** The defaults of {@link ClientLimits}. */
export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  maxReplyFrame: 1024 * 1024,
  maxChunk: 16 * 1024 * 1024,
  stallTimeoutMs: 60_000,
};

/** Options for {@link ClientConnection.open}. */
export interface OpenOptions {
  readonly host: string;
  readonly port: number;
  /** Deadline for the TCP connection, ms (default 10 s). */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
  readonly limits?: Partial<ClientLimits>;
  /** Speak TLS (PROTOCOL.md §1.1) and trust the server as these options say. */
  readonly tls?: TlsOptions;
}

/**
 * One connection to a server: a socket, a reader, and two serial chains. Sends go out in
 * order (an upload's data phase never interleaves with another request), replies are read in
 * order (PROTOCOL.md §4.2); the two chains run concurrently, which is what pipelining is.
 *
 * One way to close (basic-ftp's closeWithError): the first failure of the stream is kept, the
 * socket destroyed, and every pending and later exchange rejects with that first reason. A
 * remote error (the server said no) is not a failure of the connection.
 */
export class ClientConnection {
  readonly socket: net.Socket;
  readonly reader: StreamReader;
  readonly limits: ClientLimits;
  #sending: Promise<unknown> = Promise.resolve();
  #receiving: Promise<unknown> = Promise.resolve();
  #failure: BftpError | undefined;

  private constructor(socket: net.Socket, reader: StreamReader, limits: ClientLimits) {
    this.socket = socket;
    this.limits = limits;
    this.reader = reader;
    socket.on("error", () => {
      // Surfaces through the reader and writes as BFTP_ERR_CONNECTION_LOST.
    });
    // A server that closes an idle connection is noticed now, not at the next call.
    socket.on("close", () => {
      // Marked, so a caller can tell an idle close (reconnect) from a failure during a call.
      this.#failure ??= new BftpError(
        "BFTP_ERR_CONNECTION_LOST",
        "Cannot use the connection: the server closed it",
        {
          details: { closedByServer: true },
        },
      );
    });
  }

  /**
   * Connects over TCP with TCP_NODELAY (small requests must not wait for Nagle); with `tls`,
   * completes the TLS handshake and checks the server's certificate before returning, so
   * nothing is sent to a server that is not trusted. `timeout` covers the TCP connection and
   * the handshake, not the time a person takes to answer `onUnknownHost`.
   */
  static async open(options: OpenOptions): Promise<ClientConnection> {
    const limits = { ...DEFAULT_CLIENT_LIMITS, ...options.limits };
    const { host, port } = options;
    // A plain socket reads into 1 MiB slabs (slabOnread): a download costs the client about
    // a third less CPU than with a fresh 64 KiB Buffer per read. TLS sockets have no onread.
    // The reader is made just below, before any I/O: the socket reads on a later tick.
    const late: { reader?: StreamReader } = {};
    const feed = (chunk: Buffer): void => {
      (late.reader as StreamReader).feed(chunk);
    };
    const reads = options.tls === undefined ? slabOnread(feed) : undefined;
    // node:tls (and the modules it loads) only for bftps://: a plain command starts faster.
    const tlsModule = reads === undefined ? (await import("node:tls")).default : undefined;
    const socket =
      tlsModule === undefined
        ? net.connect({ host, port, noDelay: true, onread: reads })
        : tlsModule.connect({
            host,
            port,
            // RFC 6066 allows only names in SNI, not addresses.
            ...(net.isIP(host) === 0 ? { servername: host } : {}),
            minVersion: "TLSv1.2",
            // Certificates are pinned (host-trust.ts), not checked against authorities.
            rejectUnauthorized: false,
          });
    // Made now, before any I/O, so the first bytes the socket reads have a reader to go to.
    const reader = new StreamReader(socket, reads === undefined ? {} : { recycle: reads.recycle });
    late.reader = reader;
    socket.setNoDelay(true);
    socket.on("error", () => {
      // Reported by once() below while connecting; afterwards, through the reader.
    });
    const timeout = options.timeout ?? 10_000;
    const timer = setTimeout(
      () =>
        socket.destroy(
          new BftpError(
            "BFTP_ERR_TIMEOUT",
            `Cannot connect to ${host}:${port}: no answer within ${timeout} ms`,
          ),
        ),
      timeout,
    );
    const onAbort = (): void => {
      socket.destroy(
        new BftpError("BFTP_ERR_ABORTED", "Cannot connect: the operation was aborted"),
      );
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await once(socket, options.tls === undefined ? "connect" : "secureConnect");
    } catch (err) {
      throw connectError(err, host, port);
    } finally {
      clearTimeout(timer);
    }
    try {
      if (tlsModule !== undefined && socket instanceof tlsModule.TLSSocket) {
        await checkServerCertificate(socket, { host, port }, options.tls);
        if (socket.destroyed) throw new Error("closed while its certificate was checked");
      }
    } catch (err) {
      socket.destroy();
      throw connectError(err, host, port);
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
    return new ClientConnection(socket, reader, limits);
  }

  /** The first reason the connection failed, if it has. */
  get failure(): BftpError | undefined {
    return this.#failure;
  }

  /**
   * Runs one exchange. `send` writes the request (and an upload's data phase) once every
   * earlier send is done; `receive` reads the reply (and a download's data phase) once every
   * earlier receive is done. Resolves with what `receive` returns.
   */
  exchange<T>(send: () => Promise<void>, receive: () => Promise<T>): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    const sent = this.#sending.then(() => this.#guard(send));
    this.#sending = sent.catch(() => undefined);
    const received = this.#receiving.then(() => this.#guard(receive));
    this.#receiving = received.catch(() => undefined);
    return Promise.all([sent, received]).then(([, value]) => value);
  }

  /**
   * Sends a request with no data phase and resolves with the body of its reply, checked
   * against the command's shape ({@link REPLY_SHAPES}) before the exchange ends: a reply
   * that breaks the protocol closes the connection.
   */
  request(fields: Readonly<Record<string, unknown>>): Promise<ReplyBody> {
    const op = fields["op"];
    const shape = typeof op === "string" ? REPLY_SHAPES.get(op) : undefined;
    return this.exchange(
      () => this.send(fields),
      async () => {
        const body = await this.readReply();
        if (shape !== undefined) expectShape(shape, body, op as string);
        return body;
      },
    );
  }

  /** Writes one control frame. */
  send(fields: Readonly<Record<string, unknown>>): Promise<void> {
    return writeAll(this.socket, encodeMessage(fields), { timeout: this.limits.stallTimeoutMs });
  }

  /**
   * Reads one reply; an error reply rejects with a RemoteError carrying the server's code
   * (usable unless it says `close`), a payload that is not a reply with BFTP_ERR_PROTOCOL.
   */
  async readReply(): Promise<ReplyBody> {
    const payload = await this.reader.readFrame({
      maxSize: this.limits.maxReplyFrame,
      timeout: this.limits.stallTimeoutMs,
    });
    return parseReply(payload);
  }

  /** Closes with `reason` as the first failure; returns the first failure (later calls reject with it). */
  closeWithError(reason: BftpError): BftpError {
    this.#failure ??= reason;
    this.socket.destroy();
    return this.#failure;
  }

  /** Ends the connection politely: QUIT once every exchange has finished, then close. */
  async close(): Promise<void> {
    if (this.#failure) {
      this.socket.destroy();
      return;
    }
    try {
      await this.request({ op: "QUIT" });
      this.socket.end();
    } catch {
      // The server may already be gone; closing is all that is left to do.
    } finally {
      this.closeWithError(
        new BftpError("BFTP_ERR_CONNECTION_LOST", "Cannot use a closed connection"),
      );
    }
  }

  /**
   * Runs `step`; a failure that does not leave the connection usable closes it. Usable are a
   * remote error without `close` (the server said no) and a local refusal raised before
   * anything was sent or after the stream was brought back in step (see in-step.ts).
   */
  async #guard<T>(step: () => Promise<T>): Promise<T> {
    if (this.#failure) throw this.#failure;
    try {
      return await step();
    } catch (err) {
      if (isBftpError(err) && err.connectionUsable === true) throw err;
      throw this.closeWithError(
        isBftpError(err)
          ? err
          : new BftpError("BFTP_ERR_CONNECTION_LOST", "Cannot go on: the connection failed", {
              cause: err,
            }),
      );
    }
  }
}

/**
 * A failure to open the connection (TCP, TLS, the certificate check), with
 * `details.phase: "connect"`: the command line tells it from a failure during HELLO by that,
 * never by the message.
 */
function connectError(err: unknown, host: string, port: number): BftpError {
  const described = describeConnectError(err, host, port);
  if (described.details["phase"] === "connect") return described;
  return new BftpError(described.code, described.message, {
    cause: described.cause ?? described,
    details: { ...described.details, phase: "connect" },
  });
}

function describeConnectError(err: unknown, host: string, port: number): BftpError {
  if (isBftpError(err)) return err;
  const code = (err as { code?: unknown }).code;
  const where = `${host}:${port}`;
  if (code === "ECONNREFUSED") {
    return new BftpError(
      "BFTP_ERR_CONNECTION_REFUSED",
      `Cannot connect to ${where}: nothing is listening there; start a server with "bftp serve"`,
      { cause: err },
    );
  }
  if (typeof code === "string" && /^ERR_SSL_|^ERR_TLS_/.test(code)) {
    return new BftpError(
      "BFTP_ERR_TLS_HANDSHAKE",
      code === "ERR_SSL_WRONG_VERSION_NUMBER"
        ? `Cannot connect to ${where} over TLS: the server there does not speak TLS (for a clear-text server, use bftp:// instead of bftps://)`
        : `Cannot connect to ${where} over TLS: the handshake failed (${code})`,
      { cause: err, details: { tlsError: code } },
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new BftpError(
      "BFTP_ERR_CONNECTION_REFUSED",
      `Cannot connect to ${where}: the host name does not resolve`,
      { cause: err },
    );
  }
  return new BftpError(
    "BFTP_ERR_CONNECTION_LOST",
    `Cannot connect to ${where}: ${String(code ?? err)}`,
    { cause: err },
  );
}
