/**
 * The smallest FTP client that measures a server fairly: one control connection, anonymous
 * login, TYPE I, passive data connections (EPSV, PASV if refused), RETR into a callback and
 * STOR from chunks. Data moves through data-socket.ts, the same code the raw-pipe baseline
 * uses. Like basic-ftp's transfer.ts, a transfer is done only when both the data connection
 * has closed and the server's final reply has arrived.
 */
import net from "node:net";
import { connectReceiver, connectSender, sendChunks } from "./data-socket.js";
import { parseEpsv, parsePasv, parseReplies, type FtpReply } from "./ftp-replies.js";

/** Replies kept before a command asks for them; a server sending more is broken. */
const MAX_QUEUED = 16;

/** Options for {@link FtpClient.connect}. */
export interface FtpConnectOptions {
  readonly host?: string;
  readonly port: number;
  /** Default "anonymous". */
  readonly user?: string;
  /** Default "bench@". */
  readonly password?: string;
  /** Deadline for each reply and for each data stall, ms (default 30 s). */
  readonly timeoutMs?: number;
}

/** A reply the client did not expect; `reply` says what the server sent. */
export class FtpReplyError extends Error {
  readonly reply: FtpReply;
  constructor(command: string, reply: FtpReply) {
    super(`${command}: the server replied ${reply.code} ${reply.text}`);
    this.reply = reply;
  }
}

/**
 * @example
 * const ftp = await FtpClient.connect({ port: 2121 });
 * const bytes = await ftp.retr("/big.bin", (chunk) => check.update(chunk));
 * await ftp.quit();
 */
export class FtpClient {
  readonly #control: net.Socket;
  readonly #host: string;
  readonly #timeoutMs: number;
  #pending: Buffer = Buffer.alloc(0);
  readonly #replies: FtpReply[] = [];
  #waiter: { resolve: (r: FtpReply) => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;
  #epsvRefused = false;

  private constructor(control: net.Socket, host: string, timeoutMs: number) {
    this.#control = control;
    this.#host = host;
    this.#timeoutMs = timeoutMs;
    control.on("data", (chunk: Buffer) => {
      this.#onData(chunk);
    });
    control.on("error", (err) => {
      this.#fail(err);
    });
    control.on("close", () => {
      this.#fail(new Error("The control connection closed"));
    });
  }

  /** Connects, reads the greeting, logs in and sets TYPE I. */
  static async connect(options: FtpConnectOptions): Promise<FtpClient> {
    const host = options.host ?? "127.0.0.1";
    const timeoutMs = options.timeoutMs ?? 30_000;
    const control = net.connect({ host, port: options.port });
    control.setNoDelay(true);
    const client = new FtpClient(control, host, timeoutMs);
    try {
      let greeting = await client.#nextReply();
      if (greeting.code === 120) greeting = await client.#nextReply(); // "ready in a moment"
      if (greeting.code !== 220) throw new FtpReplyError("greeting", greeting);
      const user = await client.command(`USER ${options.user ?? "anonymous"}`);
      if (user.code === 331) {
        const pass = await client.command(`PASS ${options.password ?? "bench@"}`);
        if (pass.code !== 230 && pass.code !== 202) throw new FtpReplyError("PASS", pass);
      } else if (user.code !== 230) {
        throw new FtpReplyError("USER", user);
      }
      const type = await client.command("TYPE I");
      if (type.code !== 200) throw new FtpReplyError("TYPE I", type);
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** Sends one command line and resolves with the server's next reply. */
  async command(line: string): Promise<FtpReply> {
    if (this.#failure) throw this.#failure;
    this.#control.write(`${line}\r\n`);
    return this.#nextReply();
  }

  /** Downloads `path`, handing each chunk to `onChunk`; resolves with the bytes received. */
  async retr(path: string, onChunk: (chunk: Uint8Array) => void): Promise<number> {
    let bytes = 0;
    const target = await this.#passive();
    const data = connectReceiver({ ...target, stallMs: this.#timeoutMs }, (chunk) => {
      bytes += chunk.length;
      onChunk(chunk);
    });
    try {
      await data.connected;
      await this.#transfer(`RETR ${path}`, data.closed);
      return bytes;
    } finally {
      data.socket.destroy();
    }
  }

  /** Uploads `chunks` to `path`; resolves with the bytes sent once the server confirms. */
  async stor(path: string, chunks: Iterable<Buffer>): Promise<number> {
    const target = await this.#passive();
    const data = connectSender({ ...target, stallMs: this.#timeoutMs });
    try {
      await data.connected;
      let sent = 0;
      await this.#transfer(`STOR ${path}`, data.closed, async () => {
        sent = await sendChunks(data.socket, chunks);
      });
      return sent;
    } finally {
      data.socket.destroy();
    }
  }

  /** Says QUIT (briefly waiting for the goodbye), then closes. */
  async quit(): Promise<void> {
    try {
      if (!this.#failure) await this.command("QUIT");
    } catch {
      // closing anyway
    } finally {
      this.close();
    }
  }

  /** Closes the control connection at once; pending and later calls fail. */
  close(): void {
    this.#fail(new Error("The FTP client was closed"));
    this.#control.destroy();
  }

  /** One transfer command: preliminary reply, the data moved, then the final reply. */
  async #transfer(
    line: string,
    dataClosed: Promise<void>,
    send?: () => Promise<void>,
  ): Promise<void> {
    const first = await this.command(line);
    if (first.code >= 300) throw new FtpReplyError(line, first);
    const final = first.code < 200 ? this.#nextReply() : Promise.resolve(first);
    final.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    if (send) await send();
    const [, done] = await Promise.all([dataClosed, final]);
    if (done.code !== 226 && done.code !== 250) throw new FtpReplyError(line, done);
  }

  /** Asks for a passive data port: EPSV, or PASV once a server has refused EPSV. */
  async #passive(): Promise<{ host: string; port: number }> {
    if (!this.#epsvRefused) {
      const reply = await this.command("EPSV");
      if (reply.code === 229) return { host: this.#host, port: parseEpsv(reply) };
      if (reply.code < 500) throw new FtpReplyError("EPSV", reply);
      this.#epsvRefused = true;
    }
    const reply = await this.command("PASV");
    return { host: this.#host, port: parsePasv(reply).port }; // loopback: ignore its host
  }

  #onData(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let replies: FtpReply[];
    try {
      ({ replies, rest: this.#pending } = parseReplies(this.#pending));
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
      this.#control.destroy();
      return;
    }
    for (const reply of replies) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter.resolve(reply);
      else if (this.#replies.length < MAX_QUEUED) this.#replies.push(reply);
      else {
        this.#fail(new Error(`More than ${MAX_QUEUED} FTP replies nobody asked for`));
        this.#control.destroy();
        return;
      }
    }
  }

  #nextReply(): Promise<FtpReply> {
    const queued = this.#replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<FtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A late reply would pair with the wrong command: the connection is done.
        this.#fail(new Error(`No FTP reply within ${this.#timeoutMs} ms`));
        this.#control.destroy();
      }, this.#timeoutMs);
      this.#waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** The one way the connection fails: the first reason is kept and given to every waiter. */
  #fail(err: Error): void {
    this.#failure ??= err;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }
}
