import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import zlib from "node:zlib";
import { HEX_SIZE_HEADER, StreamReader, encodeFrame, writeAll } from "../../src/wire/index.js";

/** A reply or trailer as parsed JSON. */
export type Body = Record<string, unknown> & {
  ok: boolean;
  error?: { code: string; status: number; message: string };
};

/**
 * A protocol-level test connection: sends requests and data phases exactly as PROTOCOL.md
 * writes them, reads replies, and lets a test do the wrong thing on purpose. Not the client
 * library: tests of the server must not depend on it.
 */
export class ProtocolConnection {
  readonly socket: net.Socket;
  readonly reader: StreamReader;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.reader = new StreamReader(socket);
  }

  /**
   * Connects; with `hello` (default true) also sends HELLO and checks its reply. With `tls`
   * (default: BFTP_TEST_TLS=1), over TLS, trusting any certificate: tests of the server.
   */
  static async open(
    port: number,
    options: { hello?: boolean; tls?: boolean } = {},
  ): Promise<ProtocolConnection> {
    const secure = options.tls ?? testTls();
    const socket = secure
      ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false })
      : net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.on("error", () => {});
    await once(socket, secure ? "secureConnect" : "connect");
    const conn = new ProtocolConnection(socket);
    if (options.hello ?? true) {
      const reply = await conn.request({ op: "HELLO", versions: [1] });
      if (!reply.ok) throw new Error(`HELLO refused: ${JSON.stringify(reply)}`);
    }
    return conn;
  }

  /** Sends one request frame without waiting for its reply (pipelining). */
  send(request: object): Promise<void> {
    return writeAll(this.socket, encodeFrame(JSON.stringify(request)));
  }

  /** Sends raw bytes (malformed frames, split frames). */
  sendRaw(bytes: Uint8Array | string): Promise<void> {
    return writeAll(this.socket, typeof bytes === "string" ? Buffer.from(bytes) : bytes);
  }

  /** Reads one control frame as JSON. */
  async reply(timeout = 10_000): Promise<Body> {
    const payload = await this.reader.readFrame({ maxSize: 1 << 20, timeout });
    return JSON.parse(payload.toString("utf8")) as Body;
  }

  /** Sends a request and reads its reply. */
  async request(request: object): Promise<Body> {
    await this.send(request);
    return this.reply();
  }

  /** Sends a data phase: `data` in frames of `chunk`, the terminator, a correct CRC-32 trailer (or `trailer`). */
  async sendData(
    data: Uint8Array,
    options: { chunk?: number; trailer?: object } = {},
  ): Promise<void> {
    const chunk = options.chunk ?? 1 << 20;
    const frames: Buffer[] = [];
    for (let at = 0; at < data.length; at += chunk) {
      const piece = data.subarray(at, at + chunk);
      frames.push(HEX_SIZE_HEADER.encode(piece.length), Buffer.from(piece));
    }
    const trailer = options.trailer ?? { ok: true, checksum: { alg: "crc32", value: crc32(data) } };
    frames.push(HEX_SIZE_HEADER.encode(0), encodeFrame(JSON.stringify(trailer)));
    await writeAll(this.socket, frames);
  }

  /** PUT with its data phase; resolves with the reply. */
  async put(pathName: string, data: Uint8Array, fields: object = {}): Promise<Body> {
    await this.send({ op: "PUT", path: pathName, ...fields });
    await this.sendData(data);
    return this.reply();
  }

  /** Reads a data phase after a successful reply: the data and the trailer. */
  async readData(timeout = 10_000): Promise<{ data: Buffer; frames: Buffer[]; trailer: Body }> {
    const frames: Buffer[] = [];
    for (;;) {
      const frame = await this.reader.readFrame({ maxSize: 1 << 24, timeout });
      if (frame.length === 0) break;
      frames.push(frame);
    }
    return { data: Buffer.concat(frames), frames, trailer: await this.reply(timeout) };
  }

  /** GET: the reply, and when it is ok, the data phase. */
  async get(
    pathName: string,
    fields: object = {},
  ): Promise<{ reply: Body; data?: Buffer; trailer?: Body }> {
    const reply = await this.request({ op: "GET", path: pathName, ...fields });
    if (!reply.ok) return { reply };
    const { data, trailer } = await this.readData();
    return { reply, data, trailer };
  }

  /** LIST: the entries of every frame, and the trailer. */
  async list(
    pathName?: string,
  ): Promise<{ reply: Body; entries?: Record<string, unknown>[]; trailer?: Body }> {
    const reply = await this.request(
      pathName === undefined ? { op: "LIST" } : { op: "LIST", path: pathName },
    );
    if (!reply.ok) return { reply };
    const { frames, trailer } = await this.readData();
    const entries = frames.flatMap(
      (f) => JSON.parse(f.toString("utf8")) as Record<string, unknown>[],
    );
    return { reply, entries, trailer };
  }

  /** Resolves when the server closes the connection. */
  async closed(timeout = 10_000): Promise<void> {
    if (this.socket.destroyed || this.socket.readableEnded) return;
    await Promise.race([
      once(this.socket, "close"),
      new Promise((_, reject) =>
        setTimeout(() => {
          reject(new Error("the server did not close"));
        }, timeout).unref(),
      ),
    ]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** True when server tests run over TLS (BFTP_TEST_TLS=1; see tls-sessions.test.ts). */
export function testTls(): boolean {
  return process.env["BFTP_TEST_TLS"] === "1";
}

/** CRC-32 in PROTOCOL.md's form: 8 lowercase hex digits. */
export function crc32(data: Uint8Array): string {
  return zlib.crc32(data).toString(16).padStart(8, "0");
}
