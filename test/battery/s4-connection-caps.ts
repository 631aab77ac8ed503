/**
 * S4 (issue 6): connection caps, 50 overall and 10 per address. The connection over either cap
 * gets one BFTP_ERR_BUSY reply and is closed within 1 s (PROTOCOL.md §11); after many
 * connect/disconnect cycles the server's counters are back to zero, so the caps still admit
 * exactly as many as before.
 */
import type net from "node:net";
import { StreamReader, encodeFrame } from "../../src/wire/index.js";
import { startServer } from "../helpers/bftp-server.js";
import { waitUntil } from "../helpers/wait-until.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { closedAfter, connectRaw, runPool, within } from "./load-helpers.js";

const OVERALL = 50;
const PER_IP = 10;
const HELLO = encodeFrame(JSON.stringify({ op: "HELLO", versions: [1] }));

/** What the server answered first on a fresh connection: the code of its first reply. */
async function firstReply(socket: net.Socket): Promise<string> {
  const reader = new StreamReader(socket);
  const payload = await reader.readFrame({ maxSize: 1 << 16, timeout: 5000 });
  const body = JSON.parse(payload.toString("utf8")) as { ok: boolean; error?: { code: string } };
  return body.ok ? "ok" : (body.error?.code ?? "?");
}

/** Opens a session from `from` that has said HELLO; throws unless admitted. */
async function admitted(port: number, from: string): Promise<net.Socket> {
  const socket = await connectRaw(port, from);
  socket.write(HELLO);
  const code = await firstReply(socket);
  if (code !== "ok") throw new Error(`a connection under the caps got ${code}`);
  return socket;
}

/** One connection over a cap: its reply code and how long until it was closed. */
async function refused(port: number, from: string): Promise<{ code: string; closeMs: number }> {
  const started = Date.now();
  const socket = await connectRaw(port, from);
  const closed = closedAfter(socket, started);
  try {
    const code = await firstReply(socket);
    return { code, closeMs: await within(closed, 5000, "the refused connection closing") };
  } finally {
    socket.destroy();
  }
}

async function run(size: BatterySize): Promise<CheckResult> {
  const cycles = size === "full" ? 1000 : 100;
  const srv = await startServer({ maxConnections: OVERALL, maxPerIp: PER_IP });
  const held: net.Socket[] = [];
  const problems: string[] = [];
  let maxCloseMs = 0;
  const expectBusy = (what: string, r: { code: string; closeMs: number }): void => {
    maxCloseMs = Math.max(maxCloseMs, r.closeMs);
    if (r.code !== "BFTP_ERR_BUSY") problems.push(`${what} got ${r.code}`);
    if (r.closeMs > 1000) problems.push(`${what} closed after ${r.closeMs} ms`);
  };
  try {
    // Per address: ten from 127.0.0.1 are served, the eleventh is refused.
    for (let i = 0; i < PER_IP; i++) held.push(await admitted(srv.port, "127.0.0.1"));
    expectBusy("the 11th from one address", await refused(srv.port, "127.0.0.1"));
    // Overall: ten each from four more addresses make fifty; the 51st, from a fresh one, is refused.
    for (let a = 2; a <= OVERALL / PER_IP; a++) {
      for (let i = 0; i < PER_IP; i++) held.push(await admitted(srv.port, `127.0.0.${a}`));
    }
    if (srv.server.connections !== OVERALL) {
      problems.push(`${srv.server.connections} counted with ${OVERALL} open`);
    }
    expectBusy("the 51st overall", await refused(srv.port, "127.0.0.9"));
    for (const socket of held.splice(0)) socket.destroy();
    await waitUntil(() => srv.server.connections === 0, "the held sessions have ended");

    // Cycles: connect, HELLO, disconnect, from five addresses at once; some may meet the cap.
    let served = 0;
    let busy = 0;
    const started = Date.now();
    await runPool(cycles, 20, async (i) => {
      if (Date.now() - started > 60_000) return; // bounded in time as well as count
      const socket = await connectRaw(srv.port, `127.0.0.${10 + (i % 5)}`);
      try {
        socket.write(HELLO);
        const code = await firstReply(socket);
        if (code === "ok") served++;
        else if (code === "BFTP_ERR_BUSY") busy++;
        else problems.push(`cycle ${i} got ${code}`);
      } finally {
        socket.destroy();
      }
    });
    await waitUntil(() => srv.server.connections === 0, "the cycled sessions have ended", 5000);
    const cycleMs = Date.now() - started;
    const after = srv.server.connections;
    // The per-address counter is back to zero too: exactly ten are admitted again.
    for (let i = 0; i < PER_IP; i++) held.push(await admitted(srv.port, "127.0.0.10"));
    expectBusy("the 11th after the cycles", await refused(srv.port, "127.0.0.10"));
    if (served + busy !== cycles) problems.push(`${served + busy} of ${cycles} cycles ran`);
    return {
      pass: problems.length === 0,
      figure:
        `busy reply and close within ${maxCloseMs} ms (max); ${cycles} cycles in ${cycleMs} ms ` +
        `(${served} served, ${busy} busy), connections back to ${after}` +
        (problems.length === 0 ? "" : `; ${problems.slice(0, 3).join("; ")}`),
    };
  } finally {
    for (const socket of held) socket.destroy();
    await srv.stop();
  }
}

/** S4: connection caps (50 overall, 10 per address). */
export const S4: Check = { id: "S4", title: "connection caps", run };
