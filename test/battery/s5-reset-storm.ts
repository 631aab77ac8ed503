/**
 * S5 (issue 6): a connect-then-reset storm against a spawned server. Connections are reset
 * (RST) at four moments: at once, halfway through a frame header, right after a HELLO, and in
 * the middle of a download. The server must log no error, stay up, and serve a client after.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import type net from "node:net";
import path from "node:path";
import { encodeFrame } from "../../src/wire/index.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { connectRaw, runPool, spawnServer, within } from "./load-helpers.js";

const HELLO = encodeFrame(JSON.stringify({ op: "HELLO", versions: [1] }));
const GET = encodeFrame(JSON.stringify({ op: "GET", path: "/big.bin" }));

/** Resolves once `bytes` have arrived on the socket (or it closed). */
function received(socket: net.Socket, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen >= bytes) finish();
    };
    const finish = (): void => {
      socket.off("data", onData);
      socket.pause();
      resolve();
    };
    socket.on("data", onData);
    socket.once("close", finish);
  });
}

/** One connection, reset at the moment chosen by `mode`. */
async function stormOne(port: number, mode: number, from: string): Promise<void> {
  const socket = await connectRaw(port, from);
  try {
    if (mode === 1) socket.write("0000");
    if (mode === 2) socket.write(HELLO);
    if (mode === 3) {
      socket.write(Buffer.concat([HELLO, GET]));
      await within(received(socket, 256 * 1024), 5000, "a download starting");
    }
  } finally {
    socket.resetAndDestroy();
  }
}

async function run(size: BatterySize): Promise<CheckResult> {
  const count = size === "full" ? 5000 : 300;
  const srv = await spawnServer(["--max-connections", "1024", "--max-per-ip", "256"]);
  try {
    await fs.writeFile(path.join(srv.root, "big.bin"), randomBytes(4 * 1024 * 1024));
    const started = Date.now();
    let failedConnects = 0;
    await runPool(count, 64, async (i) => {
      if (Date.now() - started > 30_000) return;
      try {
        await stormOne(srv.port, i % 4, `127.0.0.${1 + (i % 4)}`);
      } catch {
        failedConnects++;
      }
    });
    const ms = Date.now() - started;
    // Alive: a fresh client is served.
    const conn = await within(ProtocolConnection.open(srv.port), 5000, "a client after the storm");
    const noop = await conn.request({ op: "NOOP" });
    conn.close();
    const alive = srv.serve.child.exitCode === null && noop.ok;
    const errors = srv.serve.stderr.filter((line) => !line.includes('"level":"warn"'));
    const pass = alive && errors.length === 0 && failedConnects === 0 && ms <= 30_000;
    return {
      pass,
      figure:
        `${count} connections reset in ${ms} ms (${failedConnects} failed to connect); ` +
        `server ${alive ? "alive" : "DOWN"}, ${errors.length} error lines` +
        (errors.length === 0 ? "" : `; first: ${errors[0]?.slice(0, 200)}`),
    };
  } finally {
    await srv.stop();
  }
}

/** S5: connect-then-reset storm. */
export const S5: Check = { id: "S5", title: "connect-then-reset storm", run };
