/**
 * F2 (issue 6): live-server fuzz over TCP. Thousands of hostile connections (the kinds in
 * f2-cases.ts) against an in-process server with short deadlines; passing means the server
 * is alive afterwards (a normal client completes HELLO + PWD), each bad connection was
 * answered or closed within 1 s, this process's descriptors are back to baseline ±5 and RSS
 * grew at most 30 MB after GC. `BFTP_FUZZ_SEED=<n>` replays a run.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import {
  openDescriptors,
  rssAfterGc,
  type BatterySize,
  type Check,
  type CheckResult,
} from "./check.js";
import { CASE_KINDS, Prng, makeCase, type FuzzCase } from "./f2-cases.js";
import { probe, settle, type ProbeResult } from "./f2-probe.js";

/**
 * Deadlines short enough that a stalled input is closed inside the 1 s F2 allows: a started
 * frame or a stalled data phase gets 500 ms, an idle connection 700 ms.
 */
export const F2_LIMITS = {
  frameTimeoutMs: 500,
  stallTimeoutMs: 500,
  idleTimeoutMs: 700,
  maxConnections: 4096,
  maxPerIp: 4096,
  shutdownGraceMs: 1000,
};

const ANSWER_MS = 1000;
/** A connection the server has not closed by then is hung (the idle deadline is 700 ms). */
const HUNG_MS = 2500;
const CONCURRENCY = 48;

/** True when a normal client completes HELLO + PWD within 5 s. */
export async function serverAlive(port: number): Promise<boolean> {
  let conn: ProtocolConnection | undefined;
  const work = (async () => {
    conn = await ProtocolConnection.open(port);
    const reply = await conn.request({ op: "PWD" });
    return reply.ok;
  })();
  const limit = new Promise<boolean>((resolve) =>
    setTimeout(() => {
      resolve(false);
    }, 5000).unref(),
  );
  try {
    return await Promise.race([work.catch(() => false), limit]);
  } finally {
    conn?.close();
  }
}

/** Runs `count` tasks, `width` at a time. */
export async function inParallel(
  count: number,
  width: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Why a case fails, or undefined when the server handled it. */
function verdict(c: FuzzCase, r: ProbeResult): string | undefined {
  if (r.connectError !== undefined) return `connect failed: ${r.connectError}`;
  if (r.codes.includes("BFTP_ERR_INTERNAL")) return "internal error reply";
  if (r.codes.includes("unframed reply")) return "unframed reply";
  const answered = Math.min(r.closedMs ?? Infinity, r.answeredMs ?? Infinity);
  if (c.end && (r.closedMs ?? Infinity) > ANSWER_MS) return "not closed 1 s after the FIN";
  if (answered > ANSWER_MS) return "neither answered nor closed within 1 s";
  if (r.closedMs === undefined) return `still open after ${HUNG_MS} ms`;
  if (r.frames < c.minFrames) return `out of step: ${r.frames} of ${c.minFrames} replies`;
  return undefined;
}

interface Tally {
  closed: number;
  answered: number;
  worstMs: number;
  failures: Map<string, number>;
  example: string | undefined;
}

async function runCase(server: TestServer, c: FuzzCase, tally: Tally): Promise<void> {
  const r = await probe(server.port, c.bytes, {
    end: c.end,
    maxWaitMs: HUNG_MS,
    ignoreFrames: c.answeredAhead,
  });
  const why = verdict(c, r);
  if (why !== undefined) {
    const key = `${c.kind}: ${why}`;
    tally.failures.set(key, (tally.failures.get(key) ?? 0) + 1);
    tally.example ??= `${key} (${c.bytes.subarray(0, 48).toString("hex")})`;
    return;
  }
  const first = Math.min(r.closedMs ?? Infinity, r.answeredMs ?? Infinity);
  tally.worstMs = Math.max(tally.worstMs, first);
  if (r.answeredMs !== undefined && r.answeredMs <= (r.closedMs ?? Infinity)) tally.answered++;
  else tally.closed++;
}

/** Runs F2 at `size`: 5,000 connections full, 200 per push. */
export async function runF2(size: BatterySize): Promise<CheckResult> {
  const connections = size === "full" ? 5000 : 200;
  const seed = Number(process.env["BFTP_FUZZ_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  const server = await startServer(F2_LIMITS);
  const started = Date.now();
  try {
    await fs.writeFile(path.join(server.root, "small.txt"), "hello world\n");
    const rng = new Prng(seed);
    const limits = server.server.limits;
    const tally: Tally = {
      closed: 0,
      answered: 0,
      worstMs: 0,
      failures: new Map(),
      example: undefined,
    };
    // Warm up (JIT, zod, V8's young generation, the allocator) before the baselines, so growth
    // measures memory kept, not memory first used: RSS is flat after about 1,000 connections.
    const warm: Tally = { ...tally, failures: new Map() };
    const warmRng = new Prng(seed ^ 0x5bd1e995);
    await inParallel(size === "full" ? 1500 : 200, CONCURRENCY, (i) =>
      runCase(server, makeCase(i, warmRng, limits), warm),
    );
    // Warm-up connections are hostile too: what they find counts.
    for (const [key, n] of warm.failures) tally.failures.set(`warm-up ${key}`, n);
    tally.example = warm.example;
    await settle(() => Promise.resolve(server.server.connections === 0), 3000);
    const fdBase = await openDescriptors();
    const rssBase = rssAfterGc();
    let alive = true;
    const checkpoint = Math.max(100, Math.floor(connections / 5));
    await inParallel(connections, CONCURRENCY, async (i) => {
      await runCase(server, makeCase(i, rng, limits), tally);
      if ((i + 1) % checkpoint === 0) {
        alive &&= await serverAlive(server.port);
      }
    });
    alive &&= await serverAlive(server.port);
    // Sessions end their sockets at most 1 s after a fatal reply; give them that and a margin.
    const fdBack = await settle(
      async () => Math.abs((await openDescriptors()) - fdBase) <= 5,
      3000,
    );
    const fdEnd = await openDescriptors();
    const rssGrowth = rssAfterGc() - rssBase;
    const failed = [...tally.failures.values()].reduce((a, b) => a + b, 0);
    const pass = alive && failed === 0 && fdBack && rssGrowth <= 30;
    const figure =
      `${connections} connections (${CASE_KINDS.length} kinds), seed ${seed}: ` +
      `${tally.answered} answered, ${tally.closed} closed, ${failed} failed, ` +
      `worst ${tally.worstMs.toFixed(0)} ms; server ${alive ? "alive" : "DEAD"}; ` +
      `fds ${fdBase} -> ${fdEnd}; RSS ${rssGrowth >= 0 ? "+" : ""}${rssGrowth.toFixed(1)} MB; ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s` +
      (tally.example === undefined
        ? ""
        : `; ${[...tally.failures].map(([k, n]) => `${n}x ${k}`).join(", ")}; e.g. ${tally.example}`);
    return { pass, figure };
  } finally {
    await server.stop();
  }
}

/** F2 as a battery check. */
export const F2: Check = {
  id: "F2",
  title: "live-server fuzz",
  run: runF2,
};
