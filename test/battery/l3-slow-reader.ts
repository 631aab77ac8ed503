/**
 * L3 (issue 6): a slow reader. A large GET is read at 1 MiB/s for a while, then at full speed.
 * Backpressure must hold the spawned server to its socket buffers: its peak resident memory
 * (VmHWM) stays under its level before + 64 MB, and the bytes' SHA-256 matches the file's.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { BftpClient } from "../../src/client/client.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { processMemory, spawnServer, within } from "./load-helpers.js";
import { ThrottledSink } from "./throttled-sink.js";

const MIB = 1024 * 1024;
const MAX_GROWTH_MB = 64;

/** Writes `mib` MiB of random bytes to `file`, one MiB at a time; resolves with their SHA-256. */
async function writeRandom(file: string, mib: number): Promise<string> {
  const hash = createHash("sha256");
  const handle = await fs.open(file, "w");
  try {
    for (let i = 0; i < mib; i++) {
      const chunk = randomBytes(MIB);
      hash.update(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

async function run(size: BatterySize): Promise<CheckResult> {
  const mib = size === "full" ? 256 : 32;
  const throttleMs = size === "full" ? 10_000 : 2_000;
  const srv = await spawnServer();
  try {
    const expected = await writeRandom(path.join(srv.root, "big.bin"), mib);
    const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
    try {
      await client.noop();
      const before = await processMemory(srv.pid);
      const sink = new ThrottledSink({ bytesPerSecond: MIB, throttleMs });
      const started = Date.now();
      await within(client.download("/big.bin", sink), 120_000, "the download");
      const ms = Date.now() - started;
      const after = await processMemory(srv.pid);
      const growth = Math.max(0, after.peak - before.rss);
      const same = sink.digest() === expected;
      return {
        pass: same && sink.bytes === mib * MIB && growth < MAX_GROWTH_MB,
        figure:
          `${mib} MiB GET, ${(sink.throttledBytes / MIB).toFixed(1)} MiB read at 1 MiB/s over ` +
          `${throttleMs} ms then full speed, ${ms} ms in all; server RSS ` +
          `${before.rss.toFixed(1)} MB, peak +${growth.toFixed(1)} MB (limit +${MAX_GROWTH_MB}); ` +
          `checksum ${same ? "matches" : "DIFFERS"}`,
      };
    } finally {
      await client.close().catch(() => {});
    }
  } finally {
    await srv.stop();
  }
}

/** L3: slow reader of a large GET. */
export const L3: Check = { id: "L3", title: "slow reader", run };
