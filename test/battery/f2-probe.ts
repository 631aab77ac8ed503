/**
 * One hostile connection, measured (issue 6, F2 and S2): connect on loopback, send raw bytes,
 * optionally half-close, then watch what the server does and when. No parsing beyond frame
 * boundaries: the probe must not trust the server more than the server trusts it.
 */
import net from "node:net";
import { performance } from "node:perf_hooks";
import { decodeFrames } from "../../src/wire/index.js";

/** Options for {@link probe}. */
export interface ProbeOptions {
  /** Half-close after sending (the server must then finish and close promptly). */
  readonly end: boolean;
  /** Longest wait for the server to close, ms; then the probe cuts the connection. */
  readonly maxWaitMs: number;
  /** Frames that do not count as an answer to the hostile part (the HELLO reply). */
  readonly ignoreFrames?: number;
}

/** What the server did after the probe's last byte was handed to the socket. */
export interface ProbeResult {
  /** Ms to the server's FIN or reset; undefined when it had not closed by `maxWaitMs`. */
  readonly closedMs: number | undefined;
  /** Ms to the first frame past `ignoreFrames`; undefined when none came. */
  readonly answeredMs: number | undefined;
  /** Whole frames received. */
  readonly frames: number;
  /** Error codes seen in replies, e.g. "BFTP_ERR_FRAME_TOO_LARGE". */
  readonly codes: readonly string[];
  /** Set when connecting failed: the server refused or was gone. */
  readonly connectError: string | undefined;
}

const MAX_HELD = 4 << 20;

/** Sends `bytes` on a fresh connection to 127.0.0.1:`port` and reports the server's response. */
export function probe(port: number, bytes: Buffer, options: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    let pending: Buffer = Buffer.alloc(0);
    let frames = 0;
    const codes: string[] = [];
    let sentAt = 0;
    let answeredMs: number | undefined;
    let connectError: string | undefined;
    let done = false;
    const ignore = options.ignoreFrames ?? 0;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const closedMs = closed && sentAt > 0 ? performance.now() - sentAt : undefined;
      resolve({ closedMs, answeredMs, frames, codes, connectError });
    };
    const timer = setTimeout(() => {
      finish(false);
    }, options.maxWaitMs);
    socket.on("connect", () => {
      socket.write(bytes);
      sentAt = performance.now();
      if (options.end) socket.end();
    });
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        const out = decodeFrames(pending, { maxSize: MAX_HELD });
        for (const frame of out.frames) {
          frames++;
          if (frames > ignore && answeredMs === undefined) answeredMs = performance.now() - sentAt;
          const code = /"code":"(BFTP_ERR_[A-Z_]+)"/.exec(
            frame.subarray(0, 200).toString("latin1"),
          );
          if (code?.[1] !== undefined) codes.push(code[1]);
        }
        pending = Buffer.from(out.rest);
      } catch {
        codes.push("unframed reply");
        pending = Buffer.alloc(0);
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (sentAt === 0) connectError = err.code ?? err.message;
    });
    socket.on("end", () => {
      finish(true);
    });
    socket.on("close", () => {
      finish(true);
    });
  });
}

/** The 8-hex-digit header of PROTOCOL.md §2, for any 32-bit value (edges included). */
export function header(length: number): Buffer {
  return Buffer.from(length.toString(16).padStart(8, "0"), "latin1");
}

/** A control frame holding `body` (JSON-encoded unless already bytes or a string). */
export function frameOf(body: unknown): Buffer {
  const payload = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  return Buffer.concat([header(payload.length), payload]);
}

/** Waits until `ok()` or `ms` pass; resolves with the last answer. */
export async function settle(ok: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await ok()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
