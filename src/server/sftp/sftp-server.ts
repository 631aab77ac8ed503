import { once } from "node:events";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import ssh2, { type AuthContext, type Connection, type SFTPWrapper } from "ssh2";
import type { Account, Accounts } from "../accounts/accounts.js";
import { ANONYMOUS } from "../accounts/users-file.js";
import type { ServerLimits } from "../limits.js";
import type { Logger } from "../logger.js";
import { DiskStorage } from "../storage/disk-storage.js";
import type { Storage } from "../storage/storage.js";
import type { ServerMetrics } from "../metrics.js";
import type { UploadStaging } from "../upload-staging.js";
import type { HostKey } from "./host-key.js";
import { SftpChannel, type SftpChannelLimits } from "./sftp-channel.js";

/** Longest time from a connection's first byte to a successful login, ms (OpenSSH: 120 s). */
const LOGIN_GRACE_MS = 60_000;

/** What the SFTP front end shares with the BFTP one: the server core. */
export interface SftpCore {
  readonly accounts: Accounts;
  readonly staging: UploadStaging;
  readonly limits: ServerLimits;
  readonly log: Logger;
  /**
   * Counts a connection against the server's limits (overall and per address, shared with
   * BFTP); returns the function that releases it, or undefined when the server is full.
   */
  admit(socket: net.Socket): (() => void) | undefined;
  /** What operators count (metrics.ts). */
  readonly metrics: ServerMetrics;
  /** The storage of an account root when files live in an object store (issue 15). */
  readonly objectStorage?: ((root: string) => Storage) | undefined;
}

/** Options for {@link SftpFrontEnd.start}. */
export interface SftpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly hostKey: HostKey;
  /** Share the port with other processes (cluster workers). */
  readonly exclusive?: boolean;
  readonly channelLimits?: SftpChannelLimits;
}

/**
 * The SFTP front end (issue 14): SSH through the `ssh2` library, the `sftp` subsystem only
 * (no shell, no exec, no forwarding), logins checked by the server's accounts (passwords, and
 * public keys where an account has them), each session confined to its account's root and
 * permissions through the same storage as BFTP (storage/disk-storage.ts).
 */
export class SftpFrontEnd {
  readonly #core: SftpCore;
  readonly #listener: net.Server;
  readonly #ssh: ssh2.Server;
  readonly #options: SftpOptions;
  readonly #connections = new Set<Connection>();
  readonly #channels = new Set<SftpChannel>();
  readonly #sockets = new Set<net.Socket>();
  /** Handshake deadlines of connections whose identification line has not come, by peer. */
  readonly #greetings = new Map<string, NodeJS.Timeout>();
  /** Each connection's socket, by peer (ssh2 names connections by address and port). */
  readonly #socketOf = new Map<string, net.Socket>();
  #closing = false;

  private constructor(core: SftpCore, options: SftpOptions) {
    this.#core = core;
    this.#options = options;
    this.#ssh = new ssh2.Server(
      {
        hostKeys: [options.hostKey.privateKey],
        ident: "bftp",
        // Large enough for OpenSSH's 256 KiB SFTP packets, no larger.
        highWaterMark: 256 * 1024,
      },
      (client, info) => {
        this.#connection(client, `${info.ip}:${info.port}`);
      },
    );
    this.#listener = net.createServer({ noDelay: true, keepAlive: true }, (socket) => {
      this.#accept(socket);
    });
  }

  static async start(core: SftpCore, options: SftpOptions): Promise<SftpFrontEnd> {
    const front = new SftpFrontEnd(core, options);
    front.#listener.listen({
      host: options.host,
      port: options.port,
      backlog: 1024,
      exclusive: options.exclusive ?? true,
    });
    await once(front.#listener, "listening");
    return front;
  }

  address(): net.AddressInfo {
    return this.#listener.address() as net.AddressInfo;
  }

  /** SFTP sessions open now. */
  get sessions(): number {
    return this.#channels.size;
  }

  /**
   * Stops accepting; sessions still open after `graceMs` are cut, their uncommitted uploads
   * removed (a dropped session leaves the old file or nothing).
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) =>
      this.#listener.close(() => {
        resolve();
      }),
    );
    const deadline = Date.now() + graceMs;
    while (this.#channels.size > 0 && Date.now() < deadline) await sleep(50);
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([...this.#channels].map((c) => c.close()));
    await closed;
  }

  #accept(socket: net.Socket): void {
    socket.on("error", () => {
      // A reset ends the connection through ssh2's own 'close'; nothing to do here.
    });
    const peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    const release = this.#closing ? undefined : this.#core.admit(socket);
    if (release === undefined) {
      this.#core.log.warn("busy", { peer, front: "sftp" });
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    // Until the client's SSH identification line arrives: the handshake deadline (a client
    // that sends anything else, or nothing, holds no connection for long).
    const greeting = setTimeout(() => {
      this.#core.log.info("sftp-handshake-timeout", { peer });
      socket.destroy();
    }, this.#core.limits.handshakeTimeoutMs);
    this.#greetings.set(peer, greeting);
    this.#socketOf.set(peer, socket);
    socket.once("close", () => {
      clearTimeout(greeting);
      this.#greetings.delete(peer);
      this.#socketOf.delete(peer);
      this.#sockets.delete(socket);
      release();
    });
    // Idle: nothing in either direction for the idle timeout ends the connection.
    socket.setTimeout(this.#core.limits.idleTimeoutMs, () => {
      this.#core.log.info("sftp-idle", { peer });
      socket.destroy();
    });
    this.#ssh.injectSocket(socket);
  }

  #connection(client: Connection, peer: string): void {
    const { log, limits } = this.#core;
    clearTimeout(this.#greetings.get(peer));
    this.#greetings.delete(peer);
    const socket = this.#socketOf.get(peer);
    this.#connections.add(client);
    let account: Account | undefined;
    let failures = 0;
    const grace = setTimeout(() => {
      if (account === undefined) {
        log.info("sftp-login-timeout", { peer });
        client.end();
      }
    }, LOGIN_GRACE_MS);
    grace.unref();
    log.info("connect", { peer, front: "sftp" });
    client.on("error", () => {
      // Protocol errors and resets: the connection closes; logged on 'close'.
    });
    client.on("authentication", (ctx) => {
      // "Would this key do?" (a public key without a signature): answered without logging in;
      // a key that would not is refused after the same delay as a wrong password, but not
      // counted, as a client with several keys asks once per key.
      const query = ctx.method === "publickey" && ctx.signature === undefined;
      void this.#authenticate(ctx).then(
        (granted) => {
          if (granted !== undefined) {
            if (!query) {
              account = granted;
              clearTimeout(grace);
              log.info("login", { peer, user: granted.name, front: "sftp", method: ctx.method });
              this.#core.metrics.session("sftp");
            }
            ctx.accept();
            return;
          }
          if (ctx.method === "none" || query) {
            ctx.reject(this.#methods());
            return;
          }
          failures++;
          log.warn("login-failed", { peer, user: ctx.username, front: "sftp", failures });
          ctx.reject(this.#methods());
          if (failures >= limits.maxLoginFailures) client.end();
        },
        () => {
          ctx.reject(this.#methods());
        },
      );
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("sftp", (acceptSftp) => {
          if (account === undefined) return;
          const sftp: SFTPWrapper = acceptSftp();
          const channel = new SftpChannel(sftp, {
            account,
            storage: this.#storageFor(account),
            log,
            metrics: this.#core.metrics,
            peer,
            ...(socket === undefined ? {} : { socket }),
            ...(this.#options.channelLimits === undefined
              ? {}
              : { limits: this.#options.channelLimits }),
          });
          this.#channels.add(channel);
          // The client's EOF ends the session: as sshd does when its sftp-server exits, say
          // the subsystem exited with 0, then close, so `scp` and `sftp` exit with success.
          sftp.on("end", () => {
            const channel = sftp as unknown as {
              outgoing: { id: number; state: string };
              _protocol: { exitStatus(id: number, status: number): void };
            };
            if (channel.outgoing.state === "open")
              channel._protocol.exitStatus(channel.outgoing.id, 0);
            sftp.end();
          });
          sftp.on("close", () => this.#channels.delete(channel));
        });
        // No shell, no exec (legacy scp -O, rsync over ssh): refused, with the reason on stderr.
        const refuseExec = (
          accept: () => { stderr: { write(s: string): void }; exit(n: number): void; end(): void },
        ): void => {
          const stream = accept();
          stream.stderr.write("bftp: this server speaks only SFTP (use sftp, or scp without -O)\n");
          stream.exit(1);
          stream.end();
        };
        session.on("exec", (accept) => {
          refuseExec(accept);
        });
        session.on("shell", (accept) => {
          refuseExec(accept);
        });
      });
    });
    client.on("close", () => {
      clearTimeout(grace);
      this.#connections.delete(client);
      log.info("disconnect", { peer, front: "sftp" });
    });
  }

  /**
   * The account a login attempt proves, or undefined. A wrong password, an unknown name, a
   * key that is not the account's and a bad signature all wait `loginDelayMs` (BFTP's
   * LOGIN does the same), so a refusal takes the same time whatever the reason.
   */
  async #authenticate(ctx: AuthContext): Promise<Account | undefined> {
    const { accounts, limits } = this.#core;
    const anonymous = accounts.anonymous;
    if (!accounts.hasUsers) {
      // No accounts: anyone who reaches the port may log in, as on BFTP (loopback by default).
      return anonymous;
    }
    if (ctx.username === ANONYMOUS && anonymous !== undefined) return anonymous;
    if (ctx.method === "none") return undefined;
    let granted: Account | undefined;
    if (ctx.method === "password") {
      granted = await accounts.verify(ctx.username, ctx.password);
    } else if (ctx.method === "publickey") {
      granted = this.#keyLogin(ctx);
    }
    if (granted === undefined) await sleep(limits.loginDelayMs);
    return granted;
  }

  /** Public-key login: the key must be one of the account's; a signature, when sent, must verify. */
  #keyLogin(ctx: AuthContext): Account | undefined {
    if (ctx.method !== "publickey") return undefined;
    const account = this.#core.accounts.keyAccount(ctx.username, ctx.key.data);
    if (account === undefined) return undefined;
    if (ctx.signature === undefined || ctx.blob === undefined) return account;
    const key = ssh2.utils.parseKey(ctx.key.data);
    if (key instanceof Error || Array.isArray(key)) return undefined;
    return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) ? account : undefined;
  }

  #methods(): ("password" | "publickey")[] {
    return ["publickey", "password"];
  }

  #storageFor(account: Account): Storage {
    if (this.#core.objectStorage !== undefined) return this.#core.objectStorage(account.root);
    return new DiskStorage({
      sandbox: account.sandbox,
      staging: this.#core.staging,
      // Uploads are removed by their channel when the session ends (SftpChannel.close).
      trackTemp: () => () => undefined,
    });
  }
}
