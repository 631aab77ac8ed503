/**
 * S3 (issue 6): command flood. One connection pipelines 200,000 NOOPs and does not read a
 * reply until it can write no more (ftp-srv issue 348: a flood grew memory without bound).
 * The server must stop reading once its replies back up (PROTOCOL.md §4.2), so its RSS grows
 * at most 50 MB; another client meanwhile completes HELLO + GET of a small file; and once the
 * flooder reads, every one of its requests is answered, in order, nothing lost.
 */
import { once } from "node:events";
import net from "node:net";
import path from "node:path";
import fs from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { decodeFrames } from "../../src/wire/index.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { frameOf } from "./f2-probe.js";
import { startServerProcess, type ServerProcess, type ServerSample } from "./s2-server-process.js";

const NOOP = frameOf({ op: "NOOP" });
const BATCH = 1000;
/** The flooder counts as held back once it could not write for this long. */
const BLOCKED_MS = 1000;
const SMALL = Buffer.from("hello world, from S3\n");
/**
 * 200,000 NOOPs (4.2 MB) can fit in loopback's socket buffers, so the flooder goes on writing,
 * up to this many more, until the server stops reading: that is the backpressure S3 checks.
 */
const MORE_UNTIL_HELD = 1_000_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** HELLO + GET of the small file on a second connection; resolves with its time in ms. */
async function otherClient(port: number): Promise<number> {
  const started = performance.now();
  const conn = await ProtocolConnection.open(port);
  try {
    const got = await conn.get("/small.txt");
    if (!got.reply.ok || got.trailer?.ok !== true || !SMALL.equals(got.data ?? Buffer.alloc(0))) {
      throw new Error(`GET failed: ${JSON.stringify(got.reply)}`);
    }
    return performance.now() - started;
  } finally {
    conn.close();
  }
}

/** The flooding connection: writes `total` NOOPs, counts replies once `read()` is called. */
class Flooder {
  readonly socket: net.Socket;
  written = 0;
  replies = 0;
  failed = 0;
  lastProgress = performance.now();
  #rest: Buffer = Buffer.alloc(0);

  constructor(socket: net.Socket) {
    this.socket = socket;
  }

  /** Requests to write in all; lowered once the flood has shown what it had to. */
  limit = 0;

  /** Writes `limit` requests, waiting on 'drain' (never reading); resolves when all are out. */
  async write(deadline: number): Promise<void> {
    const batch = Buffer.concat(Array.from({ length: BATCH }, () => NOOP));
    while (this.written < this.limit && performance.now() < deadline) {
      const n = Math.min(BATCH, this.limit - this.written);
      const ok = this.socket.write(n === BATCH ? batch : batch.subarray(0, n * NOOP.length));
      this.written += n;
      this.lastProgress = performance.now();
      if (!ok) await Promise.race([once(this.socket, "drain"), once(this.socket, "close")]);
      if (this.socket.destroyed) throw new Error("the server closed the flooding connection");
    }
  }

  /** Starts reading replies: counts them, and those that are not `{"ok":true}`. */
  read(): void {
    this.socket.on("data", (chunk: Buffer) => {
      const { frames, rest } = decodeFrames(
        this.#rest.length === 0 ? chunk : Buffer.concat([this.#rest, chunk]),
        { maxSize: 1 << 16 },
      );
      for (const frame of frames) {
        this.replies++;
        if (frame.toString("latin1") !== '{"ok":true}') this.failed++;
      }
      this.#rest = Buffer.from(rest);
    });
  }
}

async function flood(server: ServerProcess, total: number): Promise<CheckResult> {
  const started = performance.now();
  const deadline = started + 120_000;
  const base = await server.sample();
  let peak = base.rss;
  let peakHeap = base.heapUsed;
  const track = (m: ServerSample): void => {
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  // Flags in an object: they change in callbacks, which a plain `let` hides from the linter.
  const state = { sampling: true, finished: false, writeError: undefined as string | undefined };
  const sampler = (async () => {
    while (state.sampling) {
      track(await server.sample());
      await sleep(200);
    }
  })();
  const socket = net.connect({ port: server.port, host: "127.0.0.1", noDelay: true });
  socket.on("error", () => {});
  await once(socket, "connect");
  const flooder = new Flooder(socket);
  // No 'data' listener yet: the socket stays paused and nothing is read.
  flooder.limit = total + MORE_UNTIL_HELD;
  const writing = flooder.write(deadline);
  writing.then(
    () => {
      state.finished = true;
    },
    (err: unknown) => {
      state.finished = true;
      state.writeError = err instanceof Error ? err.message : String(err);
    },
  );
  while (!state.finished && performance.now() - flooder.lastProgress < BLOCKED_MS) await sleep(50);
  const heldAt = flooder.written;
  const blocked = !state.finished;
  // While the flood is held (or has just been written), another client must be served.
  let otherMs: number | undefined;
  let otherError: string | undefined;
  try {
    otherMs = await otherClient(server.port);
  } catch (err) {
    otherError = err instanceof Error ? err.message : String(err);
  }
  track(await server.sample());
  flooder.limit = Math.max(total, flooder.written); // the rest of the 200,000, if any
  flooder.read();
  await writing.catch(() => undefined);
  while (flooder.replies < flooder.written && !socket.destroyed && performance.now() < deadline)
    await sleep(50);
  state.sampling = false;
  await sampler;
  socket.destroy();
  const growth = peak - base.rss;
  const lost = flooder.written - flooder.replies;
  const pass =
    state.writeError === undefined &&
    blocked &&
    flooder.written >= total &&
    lost === 0 &&
    flooder.failed === 0 &&
    otherMs !== undefined &&
    growth <= 50;
  const figure =
    `${total} NOOPs on one connection, unread: ` +
    (blocked
      ? `server stopped reading, flooder held at ${heldAt} sent (${((heldAt * NOOP.length) / 1e6).toFixed(1)} MB); `
      : `server NEVER stopped reading (${flooder.written} sent); `) +
    `${flooder.replies} replies (${lost} lost, ${flooder.failed} not ok); ` +
    `server RSS peak +${growth.toFixed(1)} MB (heap in use +${(peakHeap - base.heapUsed).toFixed(1)} MB); ` +
    (otherMs === undefined
      ? `other client FAILED: ${otherError ?? "?"}`
      : `other client HELLO+GET in ${otherMs.toFixed(0)} ms`) +
    `; ${((performance.now() - started) / 1000).toFixed(1)} s` +
    (state.writeError === undefined ? "" : `; ${state.writeError}`);
  return { pass, figure };
}

/** Runs S3 at `size`: 200,000 requests full, 20,000 per push. */
export async function runS3(size: BatterySize): Promise<CheckResult> {
  // A long stall deadline: the flooder holds the server's replies back on purpose.
  const server = await startServerProcess({ stallTimeoutMs: 60_000 });
  try {
    await fs.writeFile(path.join(server.root, "small.txt"), SMALL);
    // Warm up on a connection that reads, so the baseline is the server's working size.
    const warm = await ProtocolConnection.open(server.port);
    for (let i = 0; i < 100; i++) {
      await Promise.all(Array.from({ length: 500 }, () => warm.send({ op: "NOOP" })));
      for (let j = 0; j < 500; j++) await warm.reply();
    }
    warm.close();
    return await flood(server, size === "full" ? 200_000 : 20_000);
  } finally {
    await server.stop();
  }
}

/** S3 as a battery check. */
export const S3: Check = {
  id: "S3",
  title: "command flood",
  run: runS3,
};
