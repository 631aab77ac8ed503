import fs from "node:fs";
import path from "node:path";
import { BftpError } from "../errors.js";
import { DataPhaseReader } from "../protocol/data-phase-reader.js";
import { heldFrame } from "../protocol/held-list.js";
import { isRecordPath, type HaveEntry } from "../protocol/tree-records.js";
import type { StreamReader } from "../wire/stream-reader.js";
import { sha256OfFile } from "./tree-stream.js";

/** Most files one offer names (PROTOCOL.md §8.14, the have list's limit, §8.13). */
const MAX_OFFER = 1_000_000;

/**
 * The regular files below `localDir` as PUTTREE offer entries (§8.14): each path as its
 * records will carry it, its size and modification time to the millisecond, and with
 * `sha256` its SHA-256 as well (read in 1 MiB pieces, the client's own disk). Links, special
 * files and names no record can carry are left out, as the records phase leaves them out
 * (tree-source.ts); past {@link MAX_OFFER} files the rest are simply not offered (they are
 * sent). Synchronous: this is the CLI's own process, and `-c` is asked for.
 */
export function localOffer(localDir: string, options: { readonly sha256: boolean }): HaveEntry[] {
  const entries: HaveEntry[] = [];
  const walk = (dir: string, rel: string): void => {
    let listing: fs.Dirent[];
    try {
      listing = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // the records phase says why, with a warning
    }
    for (const entry of listing) {
      if (entries.length >= MAX_OFFER) return;
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (!isRecordPath(childRel)) continue;
      const child = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(child, childRel);
      else if (entry.isFile()) {
        const stats = fs.lstatSync(child, { bigint: true, throwIfNoEntry: false });
        if (stats?.isFile() !== true) continue;
        const mtime = Number(stats.mtimeNs / 1_000_000n); // whole ms, as the H record says
        if (options.sha256) {
          let hashed: { size: number; sha256: string };
          try {
            hashed = sha256OfFile(child);
          } catch {
            continue; // unreadable: the records phase reports it
          }
          entries.push({ path: childRel, size: hashed.size, mtime, sha256: hashed.sha256 });
        } else entries.push({ path: childRel, size: Number(stats.size), mtime });
      }
    }
  };
  walk(localDir, "");
  return entries;
}

/** Limits for {@link readHeld}: the client's own, for frames and trailer, and the stall deadline. */
export interface HeldLimits {
  readonly maxChunk: number;
  readonly maxTrailer: number;
  readonly timeout: number;
}

/**
 * Reads PUTTREE's held phase (§8.14) from `reader`: data frames each a JSON array of paths,
 * each path one the client offered, none twice, then the terminator and trailer. Returns the
 * paths held. An error trailer (the server gave up checking: the command is over, the
 * connection in step) is thrown as the server's error; anything else that breaks the rules
 * (not JSON, a path not offered or repeated, a checksum that does not match) is
 * `BFTP_ERR_PROTOCOL`, and the connection cannot go on. Bounded: every frame by `maxChunk`,
 * the set by the offer.
 */
export async function readHeld(
  reader: StreamReader,
  offered: ReadonlySet<string>,
  limits: HeldLimits,
): Promise<Set<string>> {
  const phase = new DataPhaseReader(reader, "crc32", limits);
  const held = new Set<string>();
  for await (const frame of phase.frames()) {
    let paths: string[];
    try {
      const parsed: unknown = JSON.parse(frame.toString("utf8"));
      if (!heldFrame(parsed)) throw broken("a frame is not an array of paths");
      paths = parsed;
    } catch (err) {
      throw err instanceof BftpError ? err : broken("a frame is not JSON");
    }
    for (const rel of paths) {
      if (!offered.has(rel) || held.has(rel)) throw broken("a path not offered, or twice");
      held.add(rel);
    }
  }
  const { failure } = phase.result;
  if (failure === undefined) return held;
  if (failure.code === "BFTP_ERR_CHECKSUM_MISMATCH") throw broken("its checksum does not match");
  throw failure; // the server's own error trailer: the command ended there
}

function broken(why: string): BftpError {
  return new BftpError("BFTP_ERR_PROTOCOL", `Cannot read the server's held list: ${why}`, {
    connectionUsable: false,
  });
}
