/**
 * S7 (issue 6): a directory of many entries listed (PROTOCOL.md §8.6: streamed in frames of at
 * most 64 KiB as the directory is read). Every entry arrives, in more than one frame, and the
 * spawned server's peak resident memory (VmHWM) stays within 32 MB of its level before.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { BftpClient } from "../../src/client/client.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { processMemory, runPool, spawnServer, within } from "./load-helpers.js";

const MAX_GROWTH_MB = 32;

async function run(size: BatterySize): Promise<CheckResult> {
  const entries = size === "full" ? 50_000 : 5_000;
  const srv = await spawnServer();
  try {
    const dir = path.join(srv.root, "many");
    await fs.mkdir(dir);
    const made = Date.now();
    await fs.writeFile(path.join(dir, "f-0"), "x");
    // Hard links: one inode, many names; the listing still lstats every one.
    await runPool(entries - 1, 64, (i) =>
      fs.link(path.join(dir, "f-0"), path.join(dir, `f-${i + 1}-${"n".repeat(40)}`)),
    );
    const madeMs = Date.now() - made;
    const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
    try {
      await client.noop();
      const before = await processMemory(srv.pid);
      let seen = 0;
      let frames = 0;
      const started = Date.now();
      await within(
        client.list("/many", {
          onEntries: (batch) => {
            seen += batch.length;
            frames++;
          },
        }),
        120_000,
        "the listing",
      );
      const ms = Date.now() - started;
      const after = await processMemory(srv.pid);
      const growth = Math.max(0, after.peak - before.rss);
      return {
        pass: seen === entries && frames > 1 && growth <= MAX_GROWTH_MB,
        figure:
          `${seen}/${entries} entries (made in ${madeMs} ms) listed in ${ms} ms as ${frames} ` +
          `frames; server RSS ${before.rss.toFixed(1)} MB, peak +${growth.toFixed(1)} MB ` +
          `(limit ${MAX_GROWTH_MB})`,
      };
    } finally {
      await client.close().catch(() => {});
    }
  } finally {
    await srv.stop();
  }
}

/** S7: a directory of 50,000 entries listed. */
export const S7: Check = { id: "S7", title: "big directory listed", run };
