/**
 * S1 (issue 6): slowloris. Many connections each dribble a request one byte at a time; the
 * frame deadline (PROTOCOL.md §11: a started frame must be complete) closes every one of them
 * within the deadline + 1 s, and meanwhile a normal client is served at once.
 */
import fs from "node:fs/promises";
import type net from "node:net";
import path from "node:path";
import { encodeFrame } from "../../src/wire/index.js";
import { startServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { closedAfter, connectRaw, runPool, within } from "./load-helpers.js";

/** Sizes: connections, ms between bytes, and the server's frame deadline. */
const SIZES = {
  full: { count: 300, everyMs: 2000, frameTimeoutMs: 10_000 },
  push: { count: 30, everyMs: 200, frameTimeoutMs: 500 },
} as const;

/** A request that takes far longer than the deadline to dribble in. */
const FRAME = encodeFrame(JSON.stringify({ op: "NOOP", tag: "x".repeat(100) }));

/** Dribbles FRAME into `socket` one byte every `everyMs`; resolves with ms until closed. */
async function dribble(socket: net.Socket, everyMs: number): Promise<number> {
  const started = Date.now();
  socket.resume(); // the timeout reply is dropped: only the close matters
  const closed = closedAfter(socket, started);
  let at = 0;
  const send = (): void => {
    if (at < FRAME.length && !socket.destroyed && socket.writable)
      socket.write(FRAME.subarray(at, ++at));
  };
  send();
  const timer = setInterval(send, everyMs);
  try {
    return await closed;
  } finally {
    clearInterval(timer);
    socket.destroy();
  }
}

/** A normal client: HELLO, then GET of a small file; resolves with the ms it took. */
async function normalClient(port: number): Promise<number> {
  const started = Date.now();
  const conn = await ProtocolConnection.open(port);
  try {
    const { reply, data } = await conn.get("/small.txt");
    if (!reply.ok || data?.toString() !== "hello\n") throw new Error("the normal GET failed");
    return Date.now() - started;
  } finally {
    conn.close();
  }
}

async function run(size: BatterySize): Promise<CheckResult> {
  const { count, everyMs, frameTimeoutMs } = SIZES[size];
  const srv = await startServer({ frameTimeoutMs, maxConnections: 1024, maxPerIp: 1024 });
  try {
    await fs.writeFile(path.join(srv.root, "small.txt"), "hello\n");
    const sockets: net.Socket[] = [];
    await runPool(count, 50, async () => {
      sockets.push(await connectRaw(srv.port));
    });
    const limit = frameTimeoutMs + 1000;
    const closing = Promise.all(sockets.map((socket) => dribble(socket, everyMs)));
    // Halfway through the attack, a normal client.
    await new Promise((resolve) => setTimeout(resolve, frameTimeoutMs / 2));
    let normalMs: number;
    try {
      normalMs = await within(normalClient(srv.port), 10_000, "the normal client");
    } catch {
      normalMs = Infinity;
    }
    const times = await within(closing, limit + 5000, "the slow connections closing");
    const latest = Math.max(...times);
    const late = times.filter((ms) => ms > limit).length;
    return {
      pass: late === 0 && normalMs < 2000,
      figure:
        `${count} connections, 1 byte every ${everyMs} ms, frame deadline ${frameTimeoutMs} ms: ` +
        `all closed by ${latest} ms (limit ${limit}, ${late} late); ` +
        `a normal hello + GET meanwhile took ${normalMs} ms`,
    };
  } finally {
    await srv.stop();
  }
}

/** S1: slowloris. */
export const S1: Check = { id: "S1", title: "slowloris", run };
