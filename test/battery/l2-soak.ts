/**
 * L2 (issue 6): soak. Twenty clients upload and download small files (4–64 KiB) until the
 * count is reached; every download matches its upload. The server runs in this process, so
 * memory is sampled after a forced GC and descriptors counted from /proc/self/fd, as the issue
 * asks: resident memory grows less than 20 MB after warm-up, descriptors return to baseline ±2.
 */
import { randomBytes, randomInt } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { Readable, Writable } from "node:stream";
import { BftpClient } from "../../src/client/client.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { startServer } from "../helpers/bftp-server.js";
import { openDescriptors } from "./check.js";
import { rssAfterForcedGc, within } from "./load-helpers.js";

const CLIENTS = 20;
const MAX_GROWTH_MB = 20;
/**
 * Transfers before the memory baseline, on top of the counted ones: until the heap has grown
 * to its working size (at full size, samples after GC level off within about 2,000).
 */
const WARM_UP = 2000;

/** GET into memory (at most `cap` bytes). */
async function fetchBytes(client: BftpClient, name: string, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      chunks.push(chunk);
      done(total > cap ? new Error(`more than ${cap} bytes`) : null);
    },
  });
  await client.download(name, sink);
  return Buffer.concat(chunks, total);
}

async function run(size: BatterySize): Promise<CheckResult> {
  const counted = size === "full" ? 20_000 : 1_000; // a PUT and a GET are two
  const transfers = WARM_UP + counted;
  const deadlineMs = size === "full" ? 300_000 : 30_000;
  const srv = await startServer();
  try {
    const baseFds = await openDescriptors();
    const pool = randomBytes(64 * 1024);
    let started = 0; // transfers begun
    let done = 0;
    let mismatches = 0;
    let warm: number | undefined;
    const errors: string[] = [];
    const t0 = Date.now();
    let warming = false;
    const worker = async (k: number): Promise<void> => {
      const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
      try {
        for (let j = 0; started < transfers && Date.now() - t0 < deadlineMs; j++) {
          started += 2;
          const content = Buffer.from(pool.subarray(0, randomInt(4096, 64 * 1024 + 1)));
          content.writeUInt32BE(j, 0);
          const name = `/l2-${k}-${j % 4}.bin`;
          await client.upload(Readable.from([content]), name, {
            overwrite: true,
            size: content.length,
          });
          const back = await fetchBytes(client, name, content.length);
          if (!back.equals(content)) mismatches++;
          done += 2;
          if (!warming && done >= WARM_UP) {
            warming = true;
            warm = rssAfterForcedGc();
          }
        }
      } catch (err) {
        errors.push((err as { code?: string }).code ?? String(err));
      } finally {
        await client.close().catch(() => {});
      }
    };
    await within(
      Promise.all(Array.from({ length: CLIENTS }, (_, k) => worker(k))),
      deadlineMs + 30_000,
      "the soak",
    );
    const ms = Date.now() - t0;
    // Descriptors: sessions end a moment after their clients close.
    let fds = await openDescriptors();
    for (let i = 0; i < 40 && fds !== baseFds; i++) {
      await delay(50);
      fds = await openDescriptors();
    }
    const end = rssAfterForcedGc();
    const growth = end - (warm ?? end);
    const pass =
      done >= transfers &&
      errors.length === 0 &&
      mismatches === 0 &&
      warm !== undefined &&
      growth < MAX_GROWTH_MB &&
      Math.abs(fds - baseFds) <= 2;
    return {
      pass,
      figure:
        `${done - WARM_UP} transfers after ${WARM_UP} of warm-up, by ${CLIENTS} clients in ${ms} ms (${Math.round((done / ms) * 1000)}/s), ` +
        `${errors.length} errors, ${mismatches} mismatches; RSS (server and clients, after GC) ` +
        `${(warm ?? 0).toFixed(1)} → ${end.toFixed(1)} MB after warm-up ` +
        `(${growth >= 0 ? "+" : ""}${growth.toFixed(1)}, limit +${MAX_GROWTH_MB}); ` +
        `descriptors ${baseFds} → ${fds}` +
        (errors.length === 0 ? "" : `; ${errors.slice(0, 3).join(", ")}`),
    };
  } finally {
    await srv.stop();
  }
}

/** L2: small-file soak. */
export const L2: Check = { id: "L2", title: "soak", run };
