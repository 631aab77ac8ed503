/**
 * D2 (issue 6): the server, a `bftp serve` child, SIGKILLed while 50 uploads run at once, then
 * restarted on the same folder. Half the uploads overwrite an existing file. Passing: every
 * visible file is absent, its old content, or complete with the new bytes (sha256), every
 * acknowledged upload is complete, no temporary file ever shows in the served folder, and the
 * restarted server has swept the stale upload files from its staging folder (`--temp-dir`)
 * before it listens (PROTOCOL.md §8.8; temp-files.ts, upload-staging.ts).
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { tempFilesUnder } from "../fixtures/tree-snapshot.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { UploadStaging } from "../../src/server/upload-staging.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { batterySeed, prng } from "./fault-proxy.js";

const CHUNK = 32 * 1024;

const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

/** One upload sent in paced frames; resolves true if the server acknowledged the commit. */
async function paced(
  port: number,
  virtual: string,
  content: Buffer,
  overwrite: boolean,
  pause: number,
  progress: { acked: number },
): Promise<boolean> {
  let conn: ProtocolConnection | undefined;
  try {
    conn = await ProtocolConnection.open(port);
    await conn.send({ op: "PUT", path: virtual, overwrite });
    for (let at = 0; at < content.length; at += CHUNK) {
      const piece = content.subarray(at, at + CHUNK);
      await writeAll(conn.socket, [HEX_SIZE_HEADER.encode(piece.length), piece]);
      await delay(pause);
    }
    const trailer = { ok: true, checksum: { alg: "crc32", value: crc32(content) } };
    await writeAll(conn.socket, [HEX_SIZE_HEADER.encode(0), encodeFrame(JSON.stringify(trailer))]);
    const { ok } = await conn.reply(5000);
    if (ok) progress.acked++;
    return ok;
  } catch {
    return false; // the server died under it
  } finally {
    conn?.close();
  }
}

async function run(size: BatterySize): Promise<CheckResult> {
  const rounds = size === "full" ? 5 : 1;
  const uploads = size === "full" ? 50 : 10;
  const seed = batterySeed();
  const random = prng(seed);
  const top = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-d2-")));
  const base = path.join(top, "served");
  const temp = path.join(top, "temp");
  await fs.mkdir(base);
  const staging = UploadStaging.folderFor(temp, base);
  const staged = async (): Promise<string[]> =>
    (await fs.readdir(staging).catch(() => [] as string[])).filter((n) => n.startsWith("part-"));
  const failures: string[] = [];
  const totals = { acked: 0, complete: 0, old: 0, absent: 0, staleBefore: 0, swept: 0 };
  let serve: ServeProcess | undefined;
  try {
    serve = await spawnServe(base, ["--temp-dir", temp]);
    for (let round = 0; round < rounds; round++) {
      const files = Array.from({ length: uploads }, (_, i) => {
        const content = Buffer.alloc(4 * (65536 + Math.floor(random() * 131072)));
        for (let b = 0; b < content.length; b += 4)
          content.writeUInt32LE((random() * 2 ** 32) >>> 0, b);
        const old = i % 2 === 0 ? Buffer.from(`old ${round}/${i}\n`.repeat(100)) : undefined;
        return { name: `d2-${round}-${i}.bin`, content, old, pause: 3 + Math.floor(random() * 8) };
      });
      for (const f of files) if (f.old) await fs.writeFile(path.join(base, f.name), f.old);
      const port = serve.port;
      const progress = { acked: 0 };
      const running = files.map((f) =>
        paced(port, `/${f.name}`, f.content, f.old !== undefined, f.pause, progress),
      );
      // Kill when a seeded share (0-70 %) of the uploads is acknowledged and at least one
      // upload file is on disk: some done, the rest in flight.
      const target = Math.floor(random() * uploads * 0.7);
      const deadline = Date.now() + 5000;
      while ((progress.acked < target || (await staged()).length === 0) && Date.now() < deadline) {
        await delay(2);
      }
      const child = serve.child;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
      const acked = await Promise.all(running);
      const shown = await tempFilesUnder(base);
      if (shown.length > 0)
        failures.push(`round ${round}: ${shown.length} temporary files in the served folder`);
      const stale = await staged();
      totals.staleBefore += stale.length;
      serve = await spawnServe(base, ["--temp-dir", temp]);
      const left = [...(await staged()), ...(await tempFilesUnder(base))];
      if (left.length > 0)
        failures.push(`round ${round}: ${left.length} temporary files after restart`);
      else totals.swept += stale.length;
      for (const [i, f] of files.entries()) {
        const now = await fs.readFile(path.join(base, f.name)).catch(() => undefined);
        const what = `round ${round} ${f.name}`;
        if (acked[i] === true) totals.acked++;
        if (now !== undefined && sha256(now) === sha256(f.content)) totals.complete++;
        else if (acked[i] === true) failures.push(`${what}: acknowledged but not complete`);
        else if (now === undefined && f.old === undefined) totals.absent++;
        else if (f.old !== undefined && now?.equals(f.old) === true) totals.old++;
        else
          failures.push(`${what}: ${now === undefined ? "old file lost" : "partial or damaged"}`);
      }
    }
    // The restarted server works.
    const conn = await ProtocolConnection.open(serve.port);
    const reply = await conn.put("/d2-after.txt", Buffer.from("after the kill\n"));
    conn.close();
    if (!reply.ok) failures.push("the restarted server refused an upload");
  } finally {
    await serve?.stop();
    await fs.rm(top, { recursive: true, force: true });
  }
  const n = rounds * uploads;
  const figure =
    `${rounds} rounds × ${uploads} uploads, seed ${seed}: of ${n} files ${totals.complete} complete ` +
    `(${totals.acked} acknowledged), ${totals.old} unchanged, ${totals.absent} absent; ` +
    `${totals.staleBefore} stale temporary files left by the kills, ${totals.swept} swept at start-up; ` +
    `${failures.length} failures` +
    (failures.length > 0 ? ` (first: ${failures[0] ?? ""})` : "");
  return { pass: failures.length === 0 && totals.staleBefore > 0, figure };
}

/** D2: the server SIGKILLed during concurrent uploads, then restarted. */
export const d2ServerKilled: Check = {
  id: "D2",
  title: "server SIGKILLed during uploads",
  run,
};
