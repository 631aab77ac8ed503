import type { KeySigner } from "../../protocol/key-login.js";
import { BftpClient, type ClientOptions } from "../../client/client.js";
import type { TlsOptions } from "../../client/host-trust.js";
import type { Location } from "../../client/location.js";
import { BftpError } from "../../errors.js";

/** Options for {@link ShellSession.open}. */
export interface SessionOptions {
  /** Connect and stall deadline, ms (the library's defaults when absent). */
  readonly timeoutMs?: number;
  /** Log in as this user, on every connection (a reconnect logs in again). */
  readonly user?: string;
  readonly password?: string;
  /** A key to log in with, ssh-agent's keys, and the prompt for a password (login.ts). */
  readonly identity?: KeySigner;
  readonly agentKeys?: () => Promise<readonly KeySigner[]>;
  readonly askPassword?: () => Promise<string>;
  /** How to trust a `bftps://` server (unused for `bftp://`). */
  readonly tls?: TlsOptions;
}

/**
 * The shell's connection and its remote working directory. The server keeps the working
 * directory (CD), the session mirrors it for the prompt and for naming copies, and can open a
 * fresh connection in the same place after Ctrl-C interrupted a transfer.
 */
export class ShellSession {
  #client: BftpClient;
  #cwd: string;
  #interrupted = false;
  readonly #target: { host: string; port: number };
  readonly #options: ClientOptions;
  /** The location the shell was opened on. */
  readonly location: Location;

  private constructor(client: BftpClient, cwd: string, location: Location, options: ClientOptions) {
    this.#client = client;
    this.#cwd = cwd;
    this.#target = { host: location.host, port: location.port };
    this.location = location;
    this.#options = options;
  }

  /** Connects to `where` and changes to its path (when not `/`). */
  static async open(where: Location, options: SessionOptions = {}): Promise<ShellSession> {
    const target = { host: where.host, port: where.port };
    const clientOptions: ClientOptions = {
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(options.agentKeys === undefined ? {} : { agentKeys: options.agentKeys }),
      ...(options.askPassword === undefined ? {} : { askPassword: options.askPassword }),
      ...(options.timeoutMs === undefined
        ? {}
        : { timeout: options.timeoutMs, limits: { stallTimeoutMs: options.timeoutMs } }),
      ...(where.tls ? { tls: options.tls ?? true } : {}),
    };
    const client = await BftpClient.connect(target, clientOptions);
    try {
      const cwd = where.path === "/" ? await client.pwd() : await client.cd(where.path);
      return new ShellSession(client, cwd, where, clientOptions);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** The current connection (replaced by {@link reconnect}). */
  get client(): BftpClient {
    return this.#client;
  }

  /** The remote working directory, as the server last stated it. */
  get cwd(): string {
    return this.#cwd;
  }

  /** `host:port`, for messages. */
  get where(): string {
    const { host, port } = this.#target;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }

  /** Changes the remote working directory; resolves with the new one. */
  async cd(path: string): Promise<string> {
    this.#cwd = await this.#client.cd(path);
    return this.#cwd;
  }

  /** The first reason the connection failed, if it has. */
  get failure(): BftpError | undefined {
    return this.#client.connection.failure;
  }

  /** True when the server closed the connection while no call was running (an idle close). */
  get closedWhileIdle(): boolean {
    const { socket } = this.#client.connection;
    const { failure } = this;
    if (failure !== undefined) return failure.details["closedByServer"] === true;
    return socket.destroyed || socket.readyState !== "open";
  }

  /**
   * Stops whatever runs now by closing the connection (the library has no way to cancel one
   * transfer and keep the connection): pending calls reject with `BFTP_ERR_ABORTED`.
   */
  interrupt(): void {
    this.#interrupted = true;
    this.#client.connection.closeWithError(
      new BftpError("BFTP_ERR_ABORTED", "Cannot finish the command: interrupted with Ctrl-C"),
    );
  }

  /** True once after {@link interrupt}: the next failure was ours, not the network's. */
  takeInterrupt(): boolean {
    const was = this.#interrupted;
    this.#interrupted = false;
    return was;
  }

  /** Opens a new connection and returns to the working directory (or `/` if it is gone); `signal` gives up. */
  async reconnect(signal?: AbortSignal): Promise<void> {
    await this.#client.close();
    const client = await BftpClient.connect(
      this.#target,
      signal === undefined ? this.#options : { ...this.#options, signal },
    );
    this.#client = client;
    try {
      this.#cwd = await client.cd(this.#cwd);
    } catch (err) {
      if (client.connection.failure !== undefined) throw err;
      this.#cwd = await client.pwd();
    }
  }

  /** Says QUIT and closes. */
  close(): Promise<void> {
    return this.#client.close();
  }
}
