/**
 * A TCP proxy that corrupts every file download so that the transfer's own check cannot see
 * it: it XORs the first five bytes of each GET's first data frame with the CRC-32 generator
 * polynomial (x^32 + x^26 + ... + 1, reflected: bytes 41 06 71 db 01). A difference that is a
 * multiple of the generator leaves CRC-32 unchanged (PROTOCOL.md §9 says CRC-32 guards against
 * accident, not design), so the download passes its crc32 trailer check and only an
 * end-to-end comparison of the bytes, such as `bftp bench` makes, finds it.
 */
import net from "node:net";

/** The XOR pattern that CRC-32 (reflected, as zlib computes it) cannot detect. */
export const CRC32_BLIND_PATTERN: readonly number[] = [0x41, 0x06, 0x71, 0xdb, 0x01];

/** Follows frames from the server (PROTOCOL.md §2, §7) and damages each GET's first data frame. */
class DownloadTap {
  readonly #header = Buffer.alloc(8);
  #headerFill = 0;
  /** Payload bytes left in the current frame; -1 while reading a header. */
  #remaining = -1;
  #offset = 0;
  #control: Buffer[] = [];
  #inData = false;
  #damage = false;
  /** How many downloads were damaged so far. */
  damaged = 0;

  pass(chunk: Buffer): Buffer {
    const out = Buffer.from(chunk);
    let pos = 0;
    while (pos < out.length) {
      if (this.#remaining < 0) {
        const n = Math.min(8 - this.#headerFill, out.length - pos);
        out.copy(this.#header, this.#headerFill, pos, pos + n);
        this.#headerFill += n;
        pos += n;
        if (this.#headerFill === 8) {
          this.#headerFill = 0;
          this.#remaining = Number.parseInt(this.#header.toString("latin1"), 16);
          this.#offset = 0;
          this.#control = [];
          if (this.#remaining === 0) this.#endFrame();
        }
        continue;
      }
      const n = Math.min(this.#remaining, out.length - pos);
      if (!this.#inData) this.#control.push(out.subarray(pos, pos + n));
      else if (this.#damage) {
        for (let i = 0; i < n; i++) {
          const mask = CRC32_BLIND_PATTERN[this.#offset + i];
          if (mask !== undefined) out[pos + i] = (out[pos + i] ?? 0) ^ mask;
        }
      }
      this.#offset += n;
      this.#remaining -= n;
      pos += n;
      if (this.#remaining === 0) this.#endFrame();
    }
    return out;
  }

  #endFrame(): void {
    const length = this.#offset;
    this.#remaining = -1;
    if (this.#inData) {
      if (length === 0)
        this.#inData = false; // the terminator: the trailer follows
      else if (this.#damage) {
        this.#damage = false; // only the first data frame
        if (length >= CRC32_BLIND_PATTERN.length) this.damaged++;
      }
      return;
    }
    if (length === 0) return;
    let reply: unknown;
    try {
      reply = JSON.parse(Buffer.concat(this.#control).toString("utf8"));
    } catch {
      return; // a LIST batch or anything else that is not a GET reply
    }
    const r = reply as { ok?: unknown; size?: unknown; length?: unknown; offset?: unknown };
    if (
      r.ok === true &&
      typeof r.size === "number" &&
      typeof r.length === "number" &&
      typeof r.offset === "number"
    ) {
      this.#inData = r.length > 0;
      this.#damage = r.length >= CRC32_BLIND_PATTERN.length;
    }
  }
}

/** A listener on 127.0.0.1 port 0 in front of 127.0.0.1:`upstream` that damages downloads. */
export class CrcBlindProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #taps: DownloadTap[] = [];

  private constructor(upstream: number) {
    this.#server = net.createServer((client) => {
      const server = net.connect(upstream, "127.0.0.1");
      const tap = new DownloadTap();
      this.#taps.push(tap);
      for (const s of [client, server]) {
        this.#sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => {
          this.#sockets.delete(s);
          client.destroy();
          server.destroy();
        });
      }
      client.pipe(server);
      server.on("data", (chunk: Buffer) => {
        if (!client.write(tap.pass(chunk))) {
          server.pause();
          client.once("drain", () => server.resume());
        }
      });
      server.on("end", () => client.end());
    });
  }

  static async start(upstream: number): Promise<CrcBlindProxy> {
    const proxy = new CrcBlindProxy(upstream);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Downloads damaged so far, over every connection. */
  get damaged(): number {
    return this.#taps.reduce((a, t) => a + t.damaged, 0);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }
}
