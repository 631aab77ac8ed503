/**
 * D4 (issue 6): a proxy damages one transfer in the middle of its data phase, in either
 * direction: it flips one byte of a data frame's payload, flips one byte of a frame header
 * (which may desync the framing instead of failing the checksum), or cuts the stream.
 * Passing: every damaged transfer fails with a coded error, never a silent success (a flipped
 * payload byte is mostly caught as BFTP_ERR_CHECKSUM_MISMATCH, PROTOCOL.md §9; one that lands
 * on a frame header as a framing error); on upload nothing is
 * committed (the target absent or unchanged), on download no file appears under its final name.
 * A sweep then cuts and flips every byte of the end of a data phase (terminator, trailer).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import { tempFilesUnder } from "../fixtures/tree-snapshot.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { waitUntil } from "../helpers/wait-until.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { FaultProxy, batterySeed, prng, type Direction, type Fault } from "./fault-proxy.js";

/** Short deadlines: a desynced stream that waits for bytes that never come fails fast. */
const DEADLINE_MS = 1500;
const KINDS: readonly Fault["kind"][] = ["flip", "flip", "flip-header", "cut", "cut"];

/** One damaged transfer; returns the code it failed with, or a failure description. */
async function damageOnce(
  srv: TestServer,
  proxy: FaultProxy,
  direction: Direction,
  i: number,
  random: () => number,
): Promise<{ code: string } | { failure: string }> {
  const content = randomBytes(32 * 1024 + Math.floor(random() * 480 * 1024));
  const kind = KINDS[i % KINDS.length] ?? "flip";
  const at = Math.floor(random() * content.length);
  const mask = 1 + Math.floor(random() * 255);
  const remote = `/d4-${direction}-${i}.bin`;
  const target = path.join(srv.root, remote);
  const local = path.join(srv.outside, `d4-${direction}-${i}.bin`);
  const old = direction === "up" && i % 2 === 0 ? Buffer.from(`old ${i}\n`.repeat(64)) : undefined;
  const what = `${direction} ${i}: ${kind} at ${at} of ${content.length} (mask ${mask})`;
  if (direction === "down") await fs.writeFile(target, content);
  else await fs.writeFile(local, content);
  if (old !== undefined) await fs.writeFile(target, old);
  proxy.next = { direction, kind, at, mask, reset: random() < 0.5 };
  const client = await BftpClient.connect(
    { host: "127.0.0.1", port: proxy.port },
    { limits: { stallTimeoutMs: DEADLINE_MS } },
  );
  let code = "none";
  try {
    await (direction === "down"
      ? client.download(remote, local)
      : client.upload(local, remote, { overwrite: old !== undefined, resumable: false }));
  } catch (err) {
    code = isBftpError(err) ? err.code : `uncoded ${String(err)}`;
  } finally {
    await client.close().catch(() => undefined);
  }
  if (code === "none") return { failure: `${what}: silent success` };
  if (code.startsWith("uncoded")) return { failure: `${what}: ${code}` };
  // A "flip" lands at a random offset of the phase, which can be one of a frame's 8 header
  // bytes: a coded framing error is then the right outcome. Detection is what passes; the
  // figure counts the codes, so the share caught by the checksum stays visible.
  await waitUntil(() => srv.server.connections === 0, "the server closed the session", 5000);
  if (direction === "up") {
    const now = await fs.readFile(target).catch(() => undefined);
    const intact = old === undefined ? now === undefined : now?.equals(old) === true;
    if (!intact) return { failure: `${what}: the upload committed something (${code})` };
    if ((await tempFilesUnder(srv.root)).length > 0)
      return { failure: `${what}: temporary file left` };
  } else {
    const kept = await fs.lstat(local).then(
      () => true,
      () => false,
    );
    if (kept) return { failure: `${what}: a final local file exists (${code})` };
  }
  await fs.rm(local, { force: true });
  await fs.rm(`${local}.bftp-part`, { force: true });
  return { code };
}

/**
 * The end of the data phase, byte by byte: the last payload bytes, the terminator and the
 * trailer (which random offsets into the payload never reach), cut or flipped at each offset
 * in both directions, on a 1000-byte file sent as one data frame. Returns failures.
 */
async function sweepPhaseEnd(
  srv: TestServer,
  proxy: FaultProxy,
  step: number,
): Promise<{ runs: number; failures: string[] }> {
  const content = randomBytes(1000);
  const trailer = JSON.stringify({ ok: true, checksum: { alg: "crc32", value: "00000000" } });
  const end = 8 + content.length + 8 + 8 + trailer.length; // the phase's last byte is end - 1
  await fs.writeFile(path.join(srv.root, "d4-sweep.bin"), content);
  const source = path.join(srv.outside, "d4-sweep-up.bin");
  const local = path.join(srv.outside, "d4-sweep-down.bin");
  await fs.writeFile(source, content);
  const failures: string[] = [];
  let runs = 0;
  for (const kind of ["cut", "flip"] as const) {
    for (const direction of ["up", "down"] as const) {
      for (let at = end - 1; at >= content.length - 10; at -= step) {
        runs++;
        proxy.next = { direction, kind, at, mask: 0x01 };
        const client = await BftpClient.connect(
          { host: "127.0.0.1", port: proxy.port },
          { limits: { stallTimeoutMs: DEADLINE_MS } },
        );
        let code = "none";
        try {
          await (direction === "down"
            ? client.download("/d4-sweep.bin", local)
            : client.upload(source, "/d4-sweep-up.bin", { resumable: false }));
        } catch (err) {
          code = isBftpError(err) ? err.code : "uncoded";
        } finally {
          await client.close().catch(() => undefined);
        }
        await waitUntil(() => srv.server.connections === 0, "the session ended", 5000);
        const landed = direction === "down" ? local : path.join(srv.root, "d4-sweep-up.bin");
        const committed = await fs.lstat(landed).then(
          () => true,
          () => false,
        );
        if (code === "none" || code === "uncoded" || committed) {
          failures.push(
            `sweep ${kind} ${direction} at ${at}/${end}: ${code}, committed ${committed}`,
          );
        }
        await fs.rm(landed, { force: true });
        await fs.rm(`${local}.bftp-part`, { force: true });
      }
    }
  }
  return { runs, failures };
}

async function run(size: BatterySize): Promise<CheckResult> {
  const runs = size === "full" ? 100 : 10;
  const seed = batterySeed();
  const random = prng(seed);
  const srv = await startServer({
    maxChunk: 16 * 1024, // more frame headers to aim at
    stallTimeoutMs: DEADLINE_MS,
    frameTimeoutMs: DEADLINE_MS,
  });
  const proxy = await FaultProxy.start(srv.port);
  const detected = { up: 0, down: 0 };
  const codes = new Map<string, number>();
  const failures: string[] = [];
  const started = Date.now();
  let sweep: Awaited<ReturnType<typeof sweepPhaseEnd>>;
  try {
    for (let i = 0; i < runs; i++) {
      for (const direction of ["up", "down"] as const) {
        const outcome = await damageOnce(srv, proxy, direction, i, random);
        if ("failure" in outcome) {
          failures.push(outcome.failure);
          continue;
        }
        detected[direction]++;
        const key = `${direction}:${outcome.code.replace("BFTP_ERR_", "")}`;
        codes.set(key, (codes.get(key) ?? 0) + 1);
      }
    }
    sweep = await sweepPhaseEnd(srv, proxy, size === "full" ? 1 : 9);
    failures.push(...sweep.failures);
  } finally {
    await proxy.close();
    await srv.stop();
  }
  const histogram = [...codes].map(([k, n]) => `${k}×${n}`).join(", ");
  const figure =
    `seed ${seed}: detected upload ${detected.up}/${runs}, download ${detected.down}/${runs} ` +
    `(40% payload flip, 20% header flip, 40% cut) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    `nothing committed, no final local file; codes ${histogram}; ` +
    `phase-end sweep (last payload bytes, terminator, trailer) ${sweep.runs - sweep.failures.length}/${sweep.runs} detected` +
    (failures.length > 0 ? `; ${failures.length} failures, first: ${failures[0] ?? ""}` : "");
  return { pass: failures.length === 0, figure };
}

/** D4: a flipped byte or a cut stream in the middle of a transfer is detected. */
export const d4Corruption: Check = {
  id: "D4",
  title: "corrupted or cut transfers detected",
  run,
};
