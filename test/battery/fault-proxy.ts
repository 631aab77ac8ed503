/**
 * A TCP proxy for the faults checks (issue 6, D3 and D4) that can damage one connection's
 * stream in one direction: flip one byte, or cut both sides, at an offset counted from the
 * start of the data phase. It follows the framing (PROTOCOL.md §2) as the bytes pass, so a
 * fault can be aimed at a data frame's payload or at its 8-byte header.
 */
import net from "node:net";

/** Which stream a fault damages: client → server ("up") or server → client ("down"). */
export type Direction = "up" | "down";

/** What the proxy does once the stream reaches the fault's offset. */
export interface Fault {
  readonly direction: Direction;
  /**
   * "flip" XORs the byte at `at` with `mask`; "flip-header" XORs byte `at % 8` of the first
   * frame header that starts at or after `at`; "cut" destroys both sides before byte `at`.
   */
  readonly kind: "flip" | "flip-header" | "cut";
  /** Offset counted from the first byte of frame `fromFrame` in that direction. */
  readonly at: number;
  /** Index of the first data frame (after HELLO and the request or its reply): default 2. */
  readonly fromFrame?: number;
  /** A non-zero byte to XOR with (default 0xff). */
  readonly mask?: number;
  /** Cut with a reset instead of a clean end. */
  readonly reset?: boolean;
}

/** mulberry32: a small PRNG whose whole state is the seed, so a run can be replayed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A seed from BFTP_BATTERY_SEED, or a fresh random one. */
export function batterySeed(): number {
  const fixed = process.env["BFTP_BATTERY_SEED"];
  return fixed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(fixed) >>> 0;
}

/** Follows frames through one direction and damages the stream once, as `fault` says. */
class FrameTap {
  readonly #fault: Fault | undefined;
  readonly #fromFrame: number;
  #frame = 0;
  #header = Buffer.alloc(8);
  #headerFill = 0;
  #remaining = 0;
  /** Bytes seen since frame `fromFrame` began (-1 before it). */
  #offset = -1;
  #done = false;
  /** Set once a header-aimed fault has found its target offset. */
  #armed = false;
  cut = false;

  constructor(fault: Fault | undefined) {
    this.#fault = fault;
    this.#fromFrame = fault?.fromFrame ?? 2;
  }

  /** Returns the (possibly damaged) chunk to forward; sets `cut` when the rest must be dropped. */
  pass(chunk: Buffer): Buffer {
    const fault = this.#fault;
    if (fault === undefined || this.#done) return chunk;
    let out = chunk;
    let pos = 0;
    while (pos < chunk.length) {
      const inHeader = this.#remaining === 0;
      if (inHeader && this.#headerFill === 0 && this.#frame === this.#fromFrame) this.#offset = 0;
      const span = inHeader
        ? Math.min(8 - this.#headerFill, chunk.length - pos)
        : Math.min(this.#remaining, chunk.length - pos);
      if (this.#offset >= 0) {
        const target = this.#targetIn(inHeader, span);
        if (target !== undefined) {
          const index = pos + target;
          if (fault.kind === "cut") {
            this.cut = true;
            this.#done = true;
            return chunk.subarray(0, index);
          }
          if (out === chunk) out = Buffer.from(chunk);
          out[index] = (out[index] ?? 0) ^ (fault.mask ?? 0xff);
          this.#done = true;
          break;
        }
        this.#offset += span;
      }
      if (inHeader) {
        chunk.copy(this.#header, this.#headerFill, pos, pos + span);
        this.#headerFill += span;
        if (this.#headerFill === 8) {
          this.#remaining = Number.parseInt(this.#header.toString("latin1"), 16);
          this.#headerFill = 0;
          this.#frame++;
        }
      } else {
        this.#remaining -= span;
      }
      pos += span;
    }
    return out;
  }

  /** Where in the next `span` bytes the fault falls, if it does. */
  #targetIn(inHeader: boolean, span: number): number | undefined {
    const fault = this.#fault;
    if (fault === undefined) return undefined;
    const from = this.#offset;
    if (fault.kind !== "flip-header") {
      return fault.at >= from && fault.at < from + span ? fault.at - from : undefined;
    }
    if (!this.#armed && from + span > fault.at) this.#armed = true;
    // Aim at a header that starts at or after `at`: only when a fresh header begins.
    if (this.#armed && inHeader && this.#headerFill === 0 && from >= fault.at) {
      const byte = fault.at % 8;
      return byte < span ? byte : undefined;
    }
    return undefined;
  }
}

/** A listener on 127.0.0.1 port 0 that forwards to `upstream` and applies the next fault. */
export class FaultProxy {
  readonly #server: net.Server;
  readonly #upstream: number;
  readonly #sockets = new Set<net.Socket>();
  /** The fault the next accepted connection gets (then cleared). */
  next: Fault | undefined;

  private constructor(upstream: number) {
    this.#upstream = upstream;
    this.#server = net.createServer((client) => {
      this.#accept(client);
    });
  }

  /** Starts a proxy in front of 127.0.0.1:`upstream`. */
  static async start(upstream: number): Promise<FaultProxy> {
    const proxy = new FaultProxy(upstream);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  #accept(client: net.Socket): void {
    const fault = this.next;
    this.next = undefined;
    const server = net.connect(this.#upstream, "127.0.0.1");
    for (const s of [client, server]) {
      this.#sockets.add(s);
      s.setNoDelay(true);
      s.on("error", () => {});
      s.on("close", () => {
        this.#sockets.delete(s);
        client.destroy();
        server.destroy();
      });
    }
    const wire = (from: net.Socket, to: net.Socket, tap: FrameTap): void => {
      from.on("data", (chunk: Buffer) => {
        const out = tap.pass(chunk);
        if (out.length > 0 && !to.write(out)) {
          from.pause();
          to.once("drain", () => from.resume());
        }
        if (tap.cut) {
          for (const s of [client, server]) {
            if (fault?.reset === true) s.resetAndDestroy();
            else s.destroySoon();
          }
          from.removeAllListeners("data");
        }
      });
      from.on("end", () => to.end());
    };
    wire(client, server, new FrameTap(fault?.direction === "up" ? fault : undefined));
    wire(server, client, new FrameTap(fault?.direction === "down" ? fault : undefined));
  }

  /** Closes the listener and every connection through it. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }
}
