import type net from "node:net";
import tls from "node:tls";
import type { ServerLimits } from "./limits.js";
import type { Logger } from "./logger.js";

/** The server's certificate (or chain, server's first) and private key, PEM. */
export interface ServerTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/** Options for {@link TlsListener}. */
export interface TlsListenerOptions {
  readonly tls: ServerTls;
  readonly limits: ServerLimits;
  readonly log: Logger;
  /** Called with each connection whose handshake completed. */
  readonly onSecure: (socket: tls.TLSSocket) => void;
}

/** A connection still in its handshake. */
interface Pending {
  readonly raw: net.Socket;
  readonly address: string;
  readonly timer: NodeJS.Timeout;
}

/**
 * A TLS listener (PROTOCOL.md §1.1: TLS from the first byte, 1.2 at least) that keeps the
 * handshake from becoming a way to hold the server: every handshake has an absolute deadline
 * (`limits.handshakeTimeoutMs`, not an idle timer a client can stretch by trickling bytes),
 * and handshakes in progress are capped like sessions (`maxConnections` overall, `maxPerIp`
 * per address), past which a new connection is closed at once. A failed handshake (garbage,
 * TLS 1.1, a client that gives up) is logged and counted, and touches nothing else.
 *
 * The session caps still apply once the handshake is done, so a client over them gets its
 * `BFTP_ERR_BUSY` reply inside TLS where it can read it.
 */
export class TlsListener {
  readonly server: tls.Server;
  readonly #limits: ServerLimits;
  readonly #log: Logger;
  /** By `address:port`, the one key the raw socket and its TLSSocket share. */
  readonly #pending = new Map<string, Pending>();
  readonly #perAddress = new Map<string, number>();
  #failed = 0;
  #idle: (() => void)[] = [];

  constructor(options: TlsListenerOptions) {
    this.#limits = options.limits;
    this.#log = options.log;
    this.server = tls.createServer({
      key: options.tls.key,
      cert: options.tls.cert,
      minVersion: "TLSv1.2",
      noDelay: true,
      keepAlive: true,
      allowHalfOpen: true,
      // Node's own handshake timer is an idle timer; ours (#track) is absolute and fires first.
      handshakeTimeout: options.limits.handshakeTimeoutMs * 2,
    });
    // Registered after tls.Server's own "connection" listener, so the raw socket is already
    // being wrapped when we see it.
    this.server.on("connection", (raw: net.Socket) => {
      this.#track(raw);
    });
    this.server.on("secureConnection", (socket: tls.TLSSocket) => {
      if (this.#settle(keyOf(socket), undefined)) options.onSecure(socket);
      else socket.destroy(); // its deadline passed as the handshake ended
    });
    this.server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      this.#settle(keyOf(socket), err.code ?? "ERR_TLS_HANDSHAKE");
      socket.destroy();
    });
  }

  /** Handshakes that failed, timed out or were cut off since start. */
  get failedHandshakes(): number {
    return this.#failed;
  }

  /** Handshakes in progress now. */
  get handshaking(): number {
    return this.#pending.size;
  }

  /** Resolves once no handshake is in progress (each ends by its deadline at the latest). */
  whenIdle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Ends every handshake in progress (the shutdown grace is over). */
  destroyPending(): void {
    for (const { raw } of this.#pending.values()) raw.destroy();
  }

  #track(raw: net.Socket): void {
    raw.on("error", () => {
      // The TLSSocket reports it (tlsClientError) or the session's reader does.
    });
    const address = raw.remoteAddress ?? "?";
    const key = keyOf(raw);
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#pending.size >= this.#limits.maxConnections || fromAddress >= this.#limits.maxPerIp) {
      // Nothing can be said before the handshake: close, and say so in the log.
      this.#failed++;
      this.#log.warn("tls-handshake-refused", {
        peer: key,
        handshaking: this.#pending.size,
        failedHandshakes: this.#failed,
      });
      raw.destroy();
      return;
    }
    const timer = setTimeout(() => {
      if (this.#settle(key, "ERR_TLS_HANDSHAKE_TIMEOUT")) raw.destroy();
    }, this.#limits.handshakeTimeoutMs);
    timer.unref();
    this.#pending.set(key, { raw, address, timer });
    this.#perAddress.set(address, fromAddress + 1);
    raw.once("close", () => {
      // A client that closed without finishing (a port scan, a plain-TCP health check);
      // deferred so that a TLS error, more telling, is reported first when there is one.
      setImmediate(() => this.#settle(key, "ECONNRESET", raw));
    });
  }

  /**
   * Ends the handshake stage of `key` once: `failure` undefined means it succeeded. Returns
   * false when it had already ended (timed out, or its socket closed). With `raw`, only that
   * socket's handshake is ended, not a later connection from the same address and port.
   */
  #settle(key: string, failure: string | undefined, raw?: net.Socket): boolean {
    const pending = this.#pending.get(key);
    if (pending === undefined || (raw !== undefined && pending.raw !== raw)) return false;
    this.#pending.delete(key);
    clearTimeout(pending.timer);
    const left = (this.#perAddress.get(pending.address) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(pending.address);
    else this.#perAddress.set(pending.address, left);
    if (this.#pending.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
    if (failure !== undefined) {
      this.#failed++;
      this.#log.warn("tls-handshake-failed", {
        peer: key,
        error: failure,
        failedHandshakes: this.#failed,
      });
    }
    return true;
  }
}

/** `address:port` of the peer: the same for a raw socket and the TLSSocket around it. */
function keyOf(socket: net.Socket): string {
  return `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
}
