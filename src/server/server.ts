import { once, setMaxListeners } from "node:events";
import net from "node:net";
import { BftpError } from "../errors.js";
import { Accounts, type AccountsOptions } from "./accounts/accounts.js";
import { encodeMessage, toWireError } from "../protocol/replies.js";
import { ChecksumCache, type ChecksumCacheOptions } from "./checksum-cache.js";
import { DEFAULT_LIMITS, type ServerLimits } from "./limits.js";
import { SILENT_LOGGER, type Logger } from "./logger.js";
import { Sandbox } from "./sandbox.js";
import { Session } from "./session.js";
import type { SftpFrontEnd, SftpOptions } from "./sftp/sftp-server.js";
import type { S3Store, S3StoreOptions } from "./storage/s3-store.js";
import type { Storage } from "./storage/storage.js";
import { NO_METRICS, startMetrics, type MetricsEndpoint, type ServerMetrics } from "./metrics.js";
import { TlsListener, type ServerTls } from "./tls-listener.js";
import { UploadStaging, defaultTempDir } from "./upload-staging.js";

/** Options for {@link BftpServer.start}. */
export interface ServerOptions {
  /** The folder served as `/`. */
  readonly root: string;
  /** Address to listen on; 127.0.0.1 by default (loopback only). */
  readonly host?: string;
  /** Port; 0 picks a free one. */
  readonly port?: number;
  /**
   * Pending-connection queue. vsftpd's 32 drops connections when a hundred arrive at once;
   * 1024 absorbs bursts of hundreds (the kernel caps it at net.core.somaxconn).
   */
  readonly backlog?: number;
  readonly limits?: Partial<ServerLimits>;
  readonly log?: Logger;
  /**
   * Where uploads are written until committed (`bftp serve --temp-dir`): the server keeps a
   * folder of its own inside (upload-staging.ts). Default `<config dir>/uploads`. On another
   * file system than the root, uploads are staged in a hidden folder at the top of the root.
   */
  readonly tempDir?: string;
  /**
   * Sweep what earlier runs left of uploads (and warn when the temp dir is on another file
   * system) before listening, and remove the server's empty staging folder on close (default
   * true; false in `--workers` workers, whose primary sweeps once before they start).
   */
  readonly sweep?: boolean;
  /** Share the port with other processes (cluster workers, `--workers`). */
  readonly exclusive?: boolean;
  /**
   * Accounts, their roots and permissions, and anonymous access (issue 7). Without accounts,
   * anyone who connects may do everything, as before.
   */
  readonly accounts?: AccountsOptions;
  /**
   * The cache of whole-file checksums GET uses (issue 5): its options, or a cache to use
   * (shared with the caller, as tests do); `{ entries: 0 }` turns it off.
   */
  readonly checksumCache?: ChecksumCacheOptions | ChecksumCache;
  /**
   * Speak TLS (1.2 or later) from the first byte, with this certificate and key (PROTOCOL.md
   * §1.1); see tls-identity.ts for the self-signed one `bftp serve --tls` makes.
   */
  readonly tls?: ServerTls;
  /**
   * Also listen for SFTP (issue 14; `bftp serve --sftp`): the same root, accounts,
   * permissions, staging and limits, through the SFTP front end (sftp/sftp-server.ts).
   */
  readonly sftp?: Omit<SftpOptions, "host"> & { readonly host?: string };
  /**
   * Files in an S3 bucket instead of `root` (issue 15): `bftp serve s3://BUCKET/PREFIX`.
   * `root` is then only where account roots are checked (an empty private folder will do);
   * no file is written there.
   */
  readonly s3?: Omit<S3StoreOptions, "log" | "partialExpiryMs">;
  /**
   * Serve Prometheus metrics at http://HOST:PORT/metrics (issue 15; `--metrics`); port 0
   * picks a free one (`metricsAddress()` says which). prom-client is loaded only then.
   */
  readonly metrics?: { readonly host: string; readonly port: number };
}

/**
 * The bftp server: a listener whose connections become {@link Session}s, all on one event
 * loop, each capped overall and per address.
 *
 * @example
 * const server = await BftpServer.start({ root: "/srv/files", port: 0 });
 * console.log(`listening on ${server.address().address}:${server.address().port}`);
 * await server.close();
 */
export class BftpServer {
  readonly limits: ServerLimits;
  readonly #listener: net.Server;
  readonly #tls: TlsListener | undefined;
  readonly #sandbox: Sandbox;
  #accounts: Accounts;
  readonly #log: Logger;
  readonly #sessions = new Set<Session>();
  readonly #perAddress = new Map<string, number>();
  readonly #shutdown = new AbortController();
  readonly #finished = new Set<Promise<void>>();
  readonly #checksums: ChecksumCache;
  readonly #staging: UploadStaging;
  readonly #ownsStaging: boolean;
  #sftp: SftpFrontEnd | undefined;
  #objects: S3Store | undefined;
  #metrics: ServerMetrics = NO_METRICS;
  #metricsEndpoint: MetricsEndpoint | undefined;
  readonly #objectStorages = new Map<string, Storage>();

  private constructor(
    staging: { readonly staging: UploadStaging; readonly owned: boolean },
    sandbox: Sandbox,
    accounts: Accounts,
    limits: ServerLimits,
    log: Logger,
    checksums: ChecksumCache,
    tls: ServerTls | undefined,
  ) {
    this.#checksums = checksums;
    this.#staging = staging.staging;
    this.#ownsStaging = staging.owned;
    this.#sandbox = sandbox;
    this.#accounts = accounts;
    this.limits = limits;
    this.#log = log;
    // Every idle session waits on the shutdown signal (one listener each, removed when the
    // wait ends): up to maxConnections listeners is the design, not a leak, so Node's
    // MaxListenersExceededWarning at 11 would be a false alarm on the server's stderr.
    setMaxListeners(0, this.#shutdown.signal);
    if (tls === undefined) {
      this.#tls = undefined;
      this.#listener = net.createServer(
        { noDelay: true, keepAlive: true, allowHalfOpen: true },
        (socket) => {
          this.#accept(socket);
        },
      );
    } else {
      // A TLSSocket is a net.Socket: sessions run on it unchanged.
      this.#tls = new TlsListener({
        tls,
        limits,
        log,
        onSecure: (socket) => {
          this.#accept(socket);
        },
      });
      this.#listener = this.#tls.server;
    }
  }

  /** Opens the root, sweeps stale temporary files, and listens. */
  static async start(options: ServerOptions): Promise<BftpServer> {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const log = options.log ?? SILENT_LOGGER;
    const sandbox = await Sandbox.open(options.root);
    const accounts = await Accounts.open(sandbox, options.accounts);
    const sweep = options.sweep ?? true;
    const stagingOptions = { dir: options.tempDir ?? defaultTempDir(), root: sandbox.root, log };
    if (sweep) await UploadStaging.prepare({ ...stagingOptions, ttlMs: limits.partialTtlMs });
    const staging = await UploadStaging.open(stagingOptions);
    // The AWS SDK is loaded only for an object store.
    const objects =
      options.s3 === undefined
        ? undefined
        : await (
            await import("./storage/s3-store.js")
          ).S3Store.open({ ...options.s3, log, partialExpiryMs: limits.partialTtlMs });
    const s3Storage = objects === undefined ? undefined : await import("./storage/s3-storage.js");
    const server = new BftpServer(
      { staging, owned: sweep },
      sandbox,
      accounts,
      limits,
      log,
      options.checksumCache instanceof ChecksumCache
        ? options.checksumCache
        : new ChecksumCache(options.checksumCache),
      options.tls,
    );
    if (objects !== undefined && s3Storage !== undefined) {
      server.#objects = objects;
      server.#makeObjectStorage = (root) => new s3Storage.S3Storage(objects, root);
    }
    try {
      await server.#listen(options);
    } catch (err) {
      server.#listener.close();
      objects?.close();
      await server.#metricsEndpoint?.close();
      throw err;
    }
    return server;
  }

  /** Opens the listeners: metrics first (the front ends count from their first connection). */
  async #listen(options: ServerOptions): Promise<void> {
    if (options.metrics !== undefined) {
      const { host, port } = options.metrics;
      try {
        this.#metricsEndpoint = await startMetrics(host, port, this.#log);
      } catch (err) {
        throw listenError(err as NodeJS.ErrnoException, host, port);
      }
      this.#metrics = this.#metricsEndpoint.metrics;
    }
    this.#listener.listen({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      backlog: options.backlog ?? 1024,
      exclusive: options.exclusive ?? true,
    });
    try {
      await once(this.#listener, "listening"); // rejects with the listener's 'error'
    } catch (err) {
      throw listenError(err as NodeJS.ErrnoException, options.host ?? "127.0.0.1", options.port);
    }
    if (options.sftp !== undefined) {
      const host = options.sftp.host ?? options.host ?? "127.0.0.1";
      try {
        await this.#startSftp({ ...options.sftp, host });
      } catch (err) {
        throw listenError(err as NodeJS.ErrnoException, host, options.sftp.port);
      }
    }
  }

  /** The address and port the server listens on. */
  address(): net.AddressInfo {
    return this.#listener.address() as net.AddressInfo;
  }

  /** The address and port of the metrics endpoint, or undefined without `metrics`. */
  metricsAddress(): net.AddressInfo | undefined {
    return this.#metricsEndpoint?.address();
  }

  /** The address and port of the SFTP front end, or undefined without `sftp`. */
  sftpAddress(): net.AddressInfo | undefined {
    return this.#sftp?.address();
  }

  #makeObjectStorage: ((root: string) => Storage) | undefined;

  /** The storage of an account root in the object store, one per root; undefined on a disk. */
  get #objectStorage(): ((root: string) => Storage) | undefined {
    const make = this.#makeObjectStorage;
    if (make === undefined) return undefined;
    return (root) => {
      let storage = this.#objectStorages.get(root);
      if (storage === undefined) {
        storage = make(root);
        this.#objectStorages.set(root, storage);
      }
      return storage;
    };
  }

  /**
   * Replaces the accounts (`bftp serve` does on SIGHUP, issue 15: several nodes reading one
   * users file on shared storage). Connections that arrive from now on use them; sessions
   * already logged in keep the account they logged in with until they end. A users file
   * that cannot be read or checked leaves the accounts as they were (the promise rejects).
   */
  async reloadAccounts(options: AccountsOptions): Promise<void> {
    this.#accounts = await Accounts.open(this.#sandbox, options);
  }

  /** Loaded only when asked for: ssh2 is not part of a plain BFTP server's start-up. */
  async #startSftp(options: SftpOptions): Promise<void> {
    const { SftpFrontEnd } = await import("./sftp/sftp-server.js");
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the core reads the accounts now current
    const server = this;
    this.#sftp = await SftpFrontEnd.start(
      {
        get accounts() {
          return server.#accounts;
        },
        staging: this.#staging,
        limits: this.limits,
        log: this.#log,
        admit: (socket) => this.#admit(socket),
        objectStorage: this.#objectStorage,
        metrics: this.#metrics,
      },
      options,
    );
  }

  /**
   * Counts a connection of another front end against the limits BFTP sessions use (overall
   * and per address); returns its release, or undefined when the server is full.
   */
  #admit(socket: net.Socket): (() => void) | undefined {
    const address = socket.remoteAddress ?? "?";
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (
      this.#shutdown.signal.aborted ||
      this.#open() >= this.limits.maxConnections ||
      fromAddress >= this.limits.maxPerIp
    )
      return undefined;
    this.#perAddress.set(address, fromAddress + 1);
    this.#others++;
    const counted = this.#metrics.connection("sftp");
    let released = false;
    return () => {
      if (released) return;
      released = true;
      counted();
      this.#others--;
      this.#leave(address);
    };
  }

  /** Connections of every front end. */
  #open(): number {
    return this.#sessions.size + this.#others;
  }

  #leave(address: string): void {
    const left = (this.#perAddress.get(address) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, left);
  }

  /** Connections of front ends other than BFTP (SFTP) open now. */
  #others = 0;

  /** The real path of the served root. */
  get root(): string {
    return this.#sandbox.root;
  }

  /** The accounts the server was started with. */
  get accounts(): Accounts {
    return this.#accounts;
  }

  /** Connections open now (past their TLS handshake, on a TLS server). */
  get connections(): number {
    return this.#sessions.size;
  }

  /** True when the server speaks TLS. */
  get tls(): boolean {
    return this.#tls !== undefined;
  }

  /** TLS handshakes in progress now (0 without TLS). */
  get handshaking(): number {
    return this.#tls?.handshaking ?? 0;
  }

  /** TLS handshakes that failed, timed out or were refused since start (0 without TLS). */
  get failedHandshakes(): number {
    return this.#tls?.failedHandshakes ?? 0;
  }

  /**
   * Stops accepting, tells idle clients the server is going, lets requests in progress finish
   * for up to `limits.shutdownGraceMs`; in its last `limits.shutdownNoticeMs` tells the
   * transfers still running, with BFTP_ERR_SHUTTING_DOWN in a download's trailer or an
   * upload's reply, then cuts the rest. TLS handshakes in progress finish
   * and are told the same. Uncommitted uploads are removed by their sessions as they end.
   */
  async close(): Promise<void> {
    if (!this.#shutdown.signal.aborted) {
      this.#shutdown.abort();
      this.#listener.close();
    }
    const graceMs = this.limits.shutdownGraceMs;
    // The last part of the grace is for telling transfers still running that the server is
    // stopping, before the rest is cut (issue 11, item 10d).
    const noticeMs = Math.min(this.limits.shutdownNoticeMs, graceMs / 2);
    const windDown = setTimeout(() => {
      this.#log.info("shutdown-notice", { sessions: this.#sessions.size });
      for (const session of this.#sessions) session.windDown();
    }, graceMs - noticeMs);
    const grace = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
      this.#tls?.destroyPending();
    }, graceMs);
    try {
      // A handshake that completes now is answered BFTP_ERR_SHUTTING_DOWN (#accept).
      await Promise.all([...this.#finished, this.#tls?.whenIdle(), this.#sftp?.close(graceMs)]);
    } finally {
      clearTimeout(windDown);
      clearTimeout(grace);
    }
    if (this.#ownsStaging) await this.#staging.close();
    this.#objects?.close();
    await this.#metricsEndpoint?.close();
  }

  #accept(socket: net.Socket): void {
    socket.on("error", () => {
      // Resets and the like end the session through its reader; nothing to do here.
    });
    const address = socket.remoteAddress ?? "?";
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#shutdown.signal.aborted) {
      refuse(socket, new BftpError("BFTP_ERR_SHUTTING_DOWN", "The server is shutting down"));
      return;
    }
    if (this.#open() >= this.limits.maxConnections || fromAddress >= this.limits.maxPerIp) {
      const scope = fromAddress >= this.limits.maxPerIp ? `from ${address}` : "in all";
      this.#log.warn("busy", {
        peer: `${address}:${socket.remotePort ?? "?"}`,
        connections: this.#sessions.size,
      });
      refuse(
        socket,
        new BftpError(
          "BFTP_ERR_BUSY",
          `Cannot accept the connection: too many connections ${scope}; try again later`,
        ),
      );
      return;
    }
    const session = new Session(socket, {
      sandbox: this.#sandbox,
      accounts: this.#accounts,
      limits: this.limits,
      log: this.#log,
      checksums: this.#checksums,
      staging: this.#staging,
      shutdown: this.#shutdown.signal,
      objectStorage: this.#objectStorage,
      metrics: this.#metrics,
    });
    const counted = this.#metrics.connection("bftp");
    this.#sessions.add(session);
    this.#perAddress.set(address, fromAddress + 1);
    this.#log.info("connect", { peer: session.peer, connections: this.#sessions.size });
    const finished = session.run().finally(() => {
      counted();
      this.#sessions.delete(session);
      this.#leave(address);
      this.#finished.delete(finished);
    });
    this.#finished.add(finished);
  }
}

/** One fatal reply, then close; the socket cannot linger (PROTOCOL.md §3). */
function refuse(socket: net.Socket, err: BftpError): void {
  socket.end(encodeMessage({ ok: false, close: true, error: toWireError(err) }));
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Why the server could not listen, in words and a stable code instead of Node's raw
 * `listen EADDRINUSE` (issue 13, item 8).
 */
function listenError(err: NodeJS.ErrnoException, host: string, port: number | undefined): Error {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port ?? 0}`;
  switch (err.code) {
    case "EADDRINUSE":
      return new BftpError(
        "BFTP_ERR_ADDRESS_IN_USE",
        `Cannot listen on ${where}: another program is using that port; choose another with --port (0 picks a free one)`,
        { cause: err },
      );
    case "EACCES":
      return new BftpError(
        "BFTP_ERR_PERMISSION_DENIED",
        `Cannot listen on ${where}: permission denied (ports under 1024 need privileges); choose another with --port`,
        { cause: err },
      );
    case "EADDRNOTAVAIL":
      return new BftpError(
        "BFTP_ERR_INVALID_ARGUMENT",
        `Cannot listen on ${where}: that address is not one of this machine's; check --host`,
        { cause: err },
      );
    default:
      return err;
  }
}
