import type { Readable, Writable } from "node:stream";
import { BftpError } from "../errors.js";
import { DataPhaseReader } from "../protocol/data-phase-reader.js";
import { loginSignedData, type KeySigner } from "../protocol/key-login.js";
import { PROTOCOL_VERSION, type Capability } from "../protocol/version.js";
import { ClientConnection, type ClientLimits } from "./connection.js";
import type { TlsOptions } from "./host-trust.js";
import {
  downloadToChunks,
  type ChunkDownloadOptions,
  type ChunkHandler,
} from "./download-to-chunks.js";
import {
  downloadFile,
  downloadToStream,
  type DownloadOptions,
  type TransferResult,
} from "./download.js";
import { parseLocation } from "./location.js";
import {
  expectShape,
  hashReply,
  helloShape,
  listFrame,
  loginReply,
  pathReply,
  statReply,
  type Entry,
  type ServerInfo,
} from "./reply-shapes.js";
import { uploadFile, uploadFromStream, type UploadOptions } from "./upload.js";

/** Options for {@link BftpClient.connect}. */
export interface ClientOptions {
  /** Deadline for connecting and the HELLO exchange, ms (default 10 s). */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
  /** Caps on what the server may send, and the stall deadline. */
  readonly limits?: Partial<ClientLimits>;
  /** Log in as this user after HELLO (default: the location's `user@`, if any). */
  readonly user?: string;
  /** The password for `user` (PROTOCOL.md §8.2); never put it in a location. */
  readonly password?: string;
  /** Log in with this key instead of a password (PROTOCOL.md §8.2.1; key-signer.ts). */
  readonly identity?: KeySigner;
  /**
   * Keys to try when no password or identity is given and the server offers key logins
   * (ssh-agent's, key-signer.ts): at most two are tried, so a password still has its turn.
   */
  readonly agentKeys?: () => Promise<readonly KeySigner[]>;
  /** Asked for the password only when it is needed (no key logged in): a prompt. */
  readonly askPassword?: () => Promise<string>;
  /**
   * TLS (PROTOCOL.md §1.1): `true` or options to speak it, and how to trust the server
   * (pinned fingerprint, known_hosts, first-contact callback). A `bftps://` target speaks TLS
   * without it; with no options, only servers already in known_hosts are trusted.
   */
  readonly tls?: boolean | TlsOptions;
}

/** Options for {@link BftpClient.list}. */
export interface ListOptions {
  /** Called with each batch as it arrives; entries are then not collected (any size, bounded memory). */
  readonly onEntries?: (entries: readonly Entry[]) => void;
  /** Most entries collected when `onEntries` is absent (default 100,000); more is an error. */
  readonly maxEntries?: number;
}

/**
 * A connection to a bftp server: one method per command of PROTOCOL.md, transfers to and from
 * files and streams with progress and resume, recursive and batch operations (see tree.ts).
 * Calls may overlap: they are pipelined on the one connection and settle in order.
 *
 * A remote error (the server said no) rejects that call with the server's code and leaves the
 * client usable. A failure of the connection rejects every pending and later call with the
 * first reason.
 *
 * @example
 * const client = await BftpClient.connect("bftp://127.0.0.1:9921");
 * await client.upload("report.pdf", "/docs/report.pdf");
 * for (const e of await client.list("/docs")) console.log(e.name, e.size);
 * await client.close();
 */
export class BftpClient {
  readonly #conn: ClientConnection;
  /** What the server announced in HELLO. */
  readonly server: ServerInfo;

  private constructor(conn: ClientConnection, server: ServerInfo) {
    this.#conn = conn;
    this.server = server;
  }

  /**
   * Connects (to `bftp://[user@]host[:port]`, `bftps://[user@]host[:port]` or `{host, port}`),
   * says HELLO, and logs in when a user is named (`options.user` or the location's). Over TLS,
   * the server's certificate is checked before HELLO is sent.
   */
  static async connect(
    target: string | { host: string; port: number },
    options: ClientOptions = {},
  ): Promise<BftpClient> {
    const where = typeof target === "string" ? parseLocation(target) : target;
    const { host, port } = where;
    const user = options.user ?? ("user" in where ? where.user : undefined);
    const useTls =
      ("tls" in where && where.tls) || (options.tls !== undefined && options.tls !== false);
    const tls = typeof options.tls === "object" ? options.tls : {};
    const conn = await ClientConnection.open({
      host,
      port,
      ...(useTls ? { tls } : {}),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
    // The signal covers the HELLO exchange too, not only the TCP connect.
    const onAbort = (): void => {
      conn.closeWithError(
        new BftpError("BFTP_ERR_ABORTED", "Cannot connect: the operation was aborted", {
          details: { phase: "connect" },
        }),
      );
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    // `timeout` is the deadline for connecting and HELLO together, as documented.
    const timeout = options.timeout ?? 10_000;
    const timer = setTimeout(() => {
      conn.closeWithError(
        new BftpError(
          "BFTP_ERR_TIMEOUT",
          `Cannot connect to ${host}:${port}: no HELLO reply within ${timeout} ms`,
          { details: { phase: "connect" } },
        ),
      );
    }, timeout);
    try {
      const hello = await conn.request({
        op: "HELLO",
        versions: [PROTOCOL_VERSION],
        client: "bftp",
      });
      const client = new BftpClient(conn, expectShape(helloShape, hello, "HELLO"));
      if (user !== undefined) await client.#authenticate(user, options);
      return client;
    } catch (err) {
      throw conn.closeWithError(
        err instanceof BftpError
          ? err
          : new BftpError("BFTP_ERR_CONNECTION_LOST", "Cannot say hello", { cause: err }),
      );
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The largest data frame to send: the server's limit, at most 1 MiB. */
  get #maxChunk(): number {
    return Math.max(1, Math.min(this.server.limits.maxChunk, 1 << 20));
  }

  /**
   * Logs in (PROTOCOL.md §8.2); resolves with the user the server accepted. A refusal is
   * `BFTP_ERR_LOGIN_FAILED` (the server closes the connection after the third).
   */
  async login(user: string, password?: string): Promise<string> {
    const reply = expectShape(
      loginReply,
      await this.#conn.request({ op: "LOGIN", user, password }),
      "LOGIN",
    );
    if (!("user" in reply) || typeof reply.user !== "string") throw unexpectedLoginReply();
    return reply.user;
  }

  /**
   * Logs in with a public key (PROTOCOL.md §8.2.1): asks for a challenge, signs it with
   * `signer` (a key file's key or one in ssh-agent, see key-signer.ts) and sends the
   * signature; resolves with the user the server accepted. A key that is not the account's,
   * or a bad signature, is `BFTP_ERR_LOGIN_FAILED`, as a wrong password is.
   */
  async loginWithKey(user: string, signer: KeySigner): Promise<string> {
    const key = signer.publicKey.toString("base64");
    const first = expectShape(
      loginReply,
      await this.#conn.request({ op: "LOGIN", user, method: "publickey", key }),
      "LOGIN",
    );
    if (!("challenge" in first) || typeof first.challenge !== "string")
      throw unexpectedLoginReply();
    const challenge = Buffer.from(first.challenge, "base64");
    const signature = await signer.sign(loginSignedData(challenge, user, signer.publicKey));
    const second = expectShape(
      loginReply,
      await this.#conn.request({
        op: "LOGIN",
        user,
        method: "publickey",
        key,
        signature: signature.toString("base64"),
      }),
      "LOGIN",
    );
    if (!("user" in second) || typeof second.user !== "string") throw unexpectedLoginReply();
    return second.user;
  }

  /**
   * Logs in as `user` the way `options` allow: the identity; else the password; else, where
   * the server offers "publickey", up to two of `agentKeys` (a key that is not the account's
   * costs one failed login, and the third closes the connection); else `askPassword`.
   */
  async #authenticate(user: string, options: ClientOptions): Promise<void> {
    if (options.identity !== undefined) {
      await this.loginWithKey(user, options.identity);
      return;
    }
    if (options.password === undefined && options.agentKeys !== undefined) {
      const offered = this.server.auth?.methods.includes("publickey") === true;
      const keys = offered ? (await options.agentKeys()).slice(0, 2) : [];
      for (const key of keys) {
        try {
          await this.loginWithKey(user, key);
          return;
        } catch (err) {
          if (!(err instanceof BftpError) || err.code !== "BFTP_ERR_LOGIN_FAILED") throw err;
        }
      }
    }
    const password = options.password ?? (await options.askPassword?.());
    await this.login(user, password);
  }

  /** The server's working directory. */
  async pwd(): Promise<string> {
    return expectShape(pathReply, await this.#conn.request({ op: "PWD" }), "PWD").path;
  }

  /** Changes the server's working directory; resolves with the new one. */
  async cd(path: string): Promise<string> {
    return expectShape(pathReply, await this.#conn.request({ op: "CD", path }), "CD").path;
  }

  /** Describes one file or directory. */
  async stat(path: string): Promise<Entry> {
    return expectShape(statReply, await this.#conn.request({ op: "STAT", path }), "STAT").entry;
  }

  /** Lists a directory (names are the server's: check them before using them locally). */
  list(path?: string, options: ListOptions = {}): Promise<Entry[]> {
    const conn = this.#conn;
    const max = options.maxEntries ?? 100_000;
    return conn.exchange(
      () => conn.send(path === undefined ? { op: "LIST" } : { op: "LIST", path }),
      async () => {
        expectShape(pathReply, await conn.readReply(), "LIST");
        const phase = new DataPhaseReader(conn.reader, "crc32", {
          maxChunk: conn.limits.maxReplyFrame,
          maxTrailer: conn.limits.maxReplyFrame,
          timeout: conn.limits.stallTimeoutMs,
        });
        const entries: Entry[] = [];
        let refusal: BftpError | undefined;
        for await (const frame of phase.frames()) {
          let batch: Entry[];
          try {
            batch = expectShape(listFrame, JSON.parse(frame.toString("utf8")), "LIST");
          } catch (err) {
            if (err instanceof BftpError) throw err;
            throw new BftpError("BFTP_ERR_PROTOCOL", "Cannot read a LIST frame: it is not JSON", {
              cause: err,
            });
          }
          if (options.onEntries) options.onEntries(batch);
          else if (entries.length + batch.length > max) refusal ??= tooMany(max);
          else entries.push(...batch);
        }
        const { failure } = phase.result;
        if (failure) throw failure;
        if (refusal) throw refusal;
        return entries;
      },
    );
  }

  /** Downloads a remote file to a local path or into a Writable. */
  download(
    remote: string,
    destination: string | Writable,
    options: DownloadOptions = {},
  ): Promise<TransferResult> {
    return typeof destination === "string"
      ? downloadFile(this.#conn, remote, destination, options)
      : downloadToStream(this.#conn, remote, destination, options);
  }

  /**
   * Downloads a remote file piece by piece into `onChunk`, which must finish with each piece
   * before it returns: the piece is a view of the receive memory the next bytes reuse (copy
   * what you keep). No stream and no allocation per piece; verified, as every download, when
   * the promise resolves (download-to-chunks.ts).
   */
  downloadChunks(
    remote: string,
    onChunk: ChunkHandler,
    options: ChunkDownloadOptions = {},
  ): Promise<TransferResult> {
    return downloadToChunks(this.#conn, remote, onChunk, options);
  }

  /** Uploads a local file, or a Readable, to a remote path (atomic on the server). */
  upload(
    source: string | Readable,
    remote: string,
    options: UploadOptions = {},
  ): Promise<TransferResult> {
    return typeof source === "string"
      ? uploadFile(this.#conn, source, remote, { ...options, maxChunk: this.#maxChunk })
      : uploadFromStream(this.#conn, source, remote, { ...options, maxChunk: this.#maxChunk });
  }

  /** Deletes a remote file. */
  async delete(path: string): Promise<void> {
    await this.#conn.request({ op: "DELETE", path });
  }

  /** Creates a remote directory; with `parents`, like `mkdir -p`. Resolves with its path. */
  async mkdir(path: string, options: { parents?: boolean } = {}): Promise<string> {
    return expectShape(
      pathReply,
      await this.#conn.request({ op: "MKDIR", path, parents: options.parents }),
      "MKDIR",
    ).path;
  }

  /** Removes an empty remote directory. */
  async rmdir(path: string): Promise<void> {
    await this.#conn.request({ op: "RMDIR", path });
  }

  /** Renames or moves a remote file or directory. Resolves with the new path. */
  async rename(from: string, to: string, options: { overwrite?: boolean } = {}): Promise<string> {
    return expectShape(
      pathReply,
      await this.#conn.request({ op: "RENAME", from, to, overwrite: options.overwrite }),
      "RENAME",
    ).path;
  }

  /** SHA-256 of a remote file or range, as `sha256sum` prints it. */
  async hash(path: string, options: { offset?: number; length?: number } = {}): Promise<string> {
    return expectShape(
      hashReply,
      await this.#conn.request({ op: "HASH", path, ...options }),
      "HASH",
    ).value;
  }

  /** A keep-alive round trip. */
  async noop(): Promise<void> {
    await this.#conn.request({ op: "NOOP" });
  }

  /** Says QUIT once pending calls finish, and closes. */
  close(): Promise<void> {
    return this.#conn.close();
  }

  /** Whether the server announced `capability` in HELLO (PROTOCOL.md §8.1). */
  offers(capability: Capability): boolean {
    const capabilities = this.server["capabilities"];
    return Array.isArray(capabilities) && capabilities.includes(capability);
  }

  /** For tree.ts and batch operations: the connection itself. */
  get connection(): ClientConnection {
    return this.#conn;
  }
}

function tooMany(max: number): BftpError {
  return new BftpError(
    "BFTP_ERR_MESSAGE_TOO_LONG",
    `Cannot collect the listing: more than ${max} entries (use onEntries to stream it)`,
    {
      details: { max },
      connectionUsable: true,
    },
  );
}

function unexpectedLoginReply(): BftpError {
  return new BftpError(
    "BFTP_ERR_PROTOCOL",
    "Cannot log in: the server answered LOGIN with an unexpected reply",
  );
}
