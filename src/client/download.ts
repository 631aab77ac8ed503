import { once } from "node:events";
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BftpError, isBftpError } from "../errors.js";
import type { ChecksumAlg } from "../protocol/version.js";
import type { ClientConnection } from "./connection.js";
import { downloadToFile, exchangeGet, verifiedDownload } from "./download-to-file.js";
import { inStep } from "./in-step.js";
import { localDestination } from "./local-destination.js";
import { ProgressTracker, type ProgressHandler } from "./progress.js";
import { expectShape, hashReply } from "./reply-shapes.js";
import { exactSeconds } from "../exact-seconds.js";
import { nodeCrypto } from "../node-crypto.js";

/** Options for a download. */
export interface DownloadOptions {
  /** Start at this byte of the remote file (a Writable destination only). */
  readonly offset?: number;
  /** Fetch only this many bytes (a Writable destination only). */
  readonly length?: number;
  /** Continue an interrupted download into a file: its `NAME.bftp-part` is checked and extended. */
  readonly resume?: boolean;
  /** Replace an existing local file (default: refuse, like `cp -n`). */
  readonly overwrite?: boolean;
  /** Transfer checksum (default crc32; PROTOCOL.md §9). */
  readonly checksum?: ChecksumAlg;
  /**
   * Only if the remote file is still this version (a `version` from a GET or HASH reply,
   * PROTOCOL.md §8.7); otherwise the GET fails with `BFTP_ERR_FILE_CHANGED`.
   */
  readonly ifVersion?: string;
  readonly onProgress?: ProgressHandler;
  /**
   * Write a downloaded file with synchronous calls on this thread instead of the thread pool
   * (issue 12): faster where cores are few, but each write (at most about 8 MiB) blocks this
   * process's event loop, so only for a process that does nothing else meanwhile, as the CLI.
   * A disk that hangs hangs either way: neither kind of write has a deadline. Default false;
   * streams, devices and FIFOs are never written this way.
   */
  readonly syncWrites?: boolean;
  /**
   * Give a downloaded file the remote file's modification time (`scp -p`, `cp -p`), set on
   * the partial before it takes its name. Default false: the file is stamped when written,
   * as cp and scp do. Tree downloads always keep the times.
   */
  readonly preserveTime?: boolean;
}

/** What a finished transfer did. */
export interface TransferResult {
  /** The remote path. */
  readonly path: string;
  /** Bytes moved by this transfer. */
  readonly bytes: number;
  /** Size of the complete file. */
  readonly size: number;
  /** Where the transfer started (non-zero when resumed). */
  readonly offset: number;
  /** The verified checksum of the bytes moved. */
  readonly checksum: { readonly alg: ChecksumAlg; readonly value: string };
  /** The remote file's modification time (ms since the epoch), where the transfer learnt it. */
  readonly mtime?: number;
  /**
   * True for a file of a tree transfer that was not sent because the receiver already held
   * it complete (a have list's or an offer's match: PROTOCOL.md §8.13, §8.14).
   */
  readonly held?: boolean;
}

export { PARTIAL_SUFFIX } from "./partial-name.js";

/**
 * GET into a Writable (or one made by a function once the server has accepted the GET):
 * the reply, then the data phase streamed with backpressure and checked
 * against the sender's checksum and the announced length before it resolves. If the
 * destination fails, the rest of the phase is read and dropped so the connection stays usable.
 */
export function downloadToStream(
  conn: ClientConnection,
  remote: string,
  destination: Writable | (() => Writable),
  options: DownloadOptions & {
    end?: boolean;
    /** The destination as the user named it, for messages (default: a description). */
    local?: string;
  } = {},
): Promise<TransferResult> {
  return exchangeGet(conn, remote, options, async (info, phase, alg) => {
    // Made only once the server said yes: a refused GET leaves no empty local file behind.
    const sink = typeof destination === "function" ? destination() : destination;
    const tracker = new ProgressTracker(options.onProgress, remote, info.size, info.offset);
    const state = { phaseFailed: false }; // set inside the generator
    try {
      await pipeline(
        async function* counted() {
          try {
            for await (const piece of phase.chunks()) {
              tracker.add(piece.length);
              yield piece;
            }
          } catch (err) {
            state.phaseFailed = true; // the stream itself failed: the connection cannot go on
            throw err;
          }
        },
        sink,
        { end: options.end ?? true },
      );
    } catch (err) {
      if (state.phaseFailed || isBftpError(err, "BFTP_ERR_CONNECTION_LOST")) throw err;
      await phase.drain(); // the destination failed: keep the stream in step
      throw inStep(
        err,
        options.local === undefined
          ? `Cannot write the download of ${JSON.stringify(remote)} to its destination`
          : `Cannot write ${JSON.stringify(options.local)}`,
      );
    }
    return verifiedDownload(remote, { info, result: phase.result, alg, tracker });
  });
}

/**
 * GET into a local file. The bytes go to the partial `LOCAL.bftp-part` (partial-name.ts),
 * renamed to `LOCAL` once verified, so an interrupted download never looks complete. With
 * `resume`, an existing partial is kept if the server's SHA-256 of the same range matches
 * it, and only the rest is fetched, on condition that the file is still the version that
 * hash was of (issue 11). A character device or FIFO (or a link to one) is written into,
 * never replaced; a link to a regular file is written through (local-destination.ts).
 */
export async function downloadFile(
  conn: ClientConnection,
  remote: string,
  local: string,
  options: DownloadOptions = {},
): Promise<TransferResult> {
  const destination = await localDestination(local);
  if (destination.kind === "stream") return downloadInto(conn, remote, destination.path, options);
  const { path: target, part } = destination;
  if (options.resume === true && options.overwrite !== true) {
    const done = await alreadyComplete(conn, remote, target);
    if (done !== undefined) return done;
  }
  if (options.overwrite !== true && destination.exists) {
    throw inStep(
      Object.assign(new Error("exists"), { code: "EEXIST" }),
      `Cannot download to ${JSON.stringify(local)}`,
    );
  }
  const { length: _whole, ...rest } = options; // a file download is always the whole file
  const state = { written: false };
  const fetch = (offset: number, ifVersion: string | undefined): Promise<TransferResult> => {
    const { ifVersion: _given, ...others } = rest;
    // Straight from the socket to the file (issue 12); streams keep downloadToStream.
    return downloadToFile(conn, remote, part, {
      ...others,
      offset,
      local,
      ...(ifVersion === undefined ? {} : { ifVersion }),
      onCreate: () => {
        state.written = true;
      },
    });
  };
  const kept = options.resume === true ? await resumableOffset(conn, remote, part) : undefined;
  let result: TransferResult;
  try {
    result = await fetch(kept?.offset ?? 0, options.ifVersion ?? kept?.version);
  } catch (err) {
    // The file changed between the HASH that vouched for the partial and the GET: the
    // partial may not begin this version. The GET was refused before any byte: start over.
    if (!isBftpError(err, "BFTP_ERR_FILE_CHANGED") || state.written || (kept?.offset ?? 0) === 0)
      throw err;
    result = await fetch(0, options.ifVersion);
  }
  try {
    if (options.preserveTime === true && result.mtime !== undefined) {
      const seconds = exactSeconds(result.mtime);
      await fsp.utimes(part, seconds, seconds);
    }
    if (options.overwrite === true) {
      // Never a device or link that appeared at the target meanwhile (issue 11, item 4).
      const now = await fsp.lstat(target).catch(() => undefined);
      if (now !== undefined && !now.isFile()) {
        throw Object.assign(new Error("not a regular file"), { code: "EEXIST" });
      }
      await fsp.rename(part, target);
    } else {
      await fsp.link(part, target); // fails if LOCAL appeared meanwhile: never clobber
      await fsp.unlink(part);
    }
  } catch (err) {
    throw inStep(err, `Cannot save the download as ${JSON.stringify(local)}`);
  }
  return result;
}

/**
 * GET written into a character device or FIFO through its name (issue 11, item 4): opened
 * for writing without creating or truncating, checked through the descriptor, never
 * replaced. A FIFO's open waits for a reader, as `cp` does. The whole file is sent (resume
 * and ranges do not apply: the device keeps no partial).
 */
async function downloadInto(
  conn: ClientConnection,
  remote: string,
  device: string,
  options: DownloadOptions,
): Promise<TransferResult> {
  const handle = await fsp.open(device, fs.constants.O_WRONLY).catch((err: unknown) => {
    throw inStep(err, `Cannot download to ${JSON.stringify(device)}`);
  });
  let stream: fs.WriteStream | undefined;
  try {
    const stats = await handle.stat();
    if (!stats.isCharacterDevice() && !stats.isFIFO()) {
      throw inStep(
        new BftpError(
          "BFTP_ERR_LOCAL_FILE",
          `Cannot download to ${JSON.stringify(device)}: it changed into something else than a device or FIFO`,
        ),
        "Cannot download",
      );
    }
    const { offset: _offset, length: _length, resume: _resume, ...rest } = options;
    return await downloadToStream(conn, remote, () => (stream = handle.createWriteStream()), {
      ...rest,
      local: device,
    });
  } finally {
    // The stream closes the handle once it is destroyed (it holds a reference until then).
    if (stream === undefined) await handle.close();
    else if (!stream.closed) {
      const closed = once(stream, "close");
      stream.destroy();
      await closed;
    }
  }
}

/**
 * With resume, a local file that is already the whole remote file (same size, same SHA-256)
 * is a finished transfer, as `wget -c` says "already fully retrieved"; otherwise undefined.
 */
async function alreadyComplete(
  conn: ClientConnection,
  remote: string,
  local: string,
): Promise<TransferResult | undefined> {
  const size = await fsp.stat(local).then(
    (s) => (s.isFile() ? s.size : -1),
    () => -1,
  );
  if (size < 0) return undefined;
  let theirs;
  try {
    theirs = expectShape(hashReply, await conn.request({ op: "HASH", path: remote }), "HASH");
  } catch (err) {
    if (isBftpError(err) && err.remote) return undefined;
    throw err;
  }
  if (theirs.length !== size || theirs.value !== (await sha256Of(local, size))) return undefined;
  return {
    path: remote,
    bytes: 0,
    size,
    offset: size,
    checksum: { alg: "sha256", value: theirs.value },
  };
}

/**
 * How much of an existing partial download can be kept: all of it if the server agrees on
 * its hash, with the version of the file that hash was of (when the server reports one), for
 * the GET of the rest to name in `ifVersion`.
 */
async function resumableOffset(
  conn: ClientConnection,
  remote: string,
  part: string,
): Promise<{ offset: number; version: string | undefined }> {
  const none = { offset: 0, version: undefined };
  const size = await fsp.stat(part).then(
    (s) => s.size,
    () => 0,
  );
  if (size === 0) return none;
  let theirs;
  try {
    theirs = expectShape(
      hashReply,
      await conn.request({ op: "HASH", path: remote, offset: 0, length: size }),
      "HASH",
    );
  } catch (err) {
    if (isBftpError(err, "BFTP_ERR_BAD_RANGE")) return none; // the remote file is shorter now: start over
    if (isBftpError(err, "BFTP_ERR_FILE_CHANGED")) return none; // it is being written: start over
    throw err;
  }
  if (theirs.value !== (await sha256Of(part, size))) return none;
  return { offset: size, version: theirs.version };
}

/** SHA-256 of the first `length` bytes of a local file. */
export async function sha256Of(file: string, length: number): Promise<string> {
  const digest = nodeCrypto().createHash("sha256");
  if (length > 0)
    await pipeline(
      fs.createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1 << 20 }),
      digest,
    );
  return digest.digest("hex");
}
