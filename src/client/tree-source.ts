import fs from "node:fs";
import path from "node:path";
import { BftpError } from "../errors.js";
import { createChecksum, updateWithCrc, type Checksum } from "../protocol/checksum.js";
import { toWireError } from "../protocol/replies.js";
import type { TreeEncoder } from "../protocol/tree-encoder.js";
import { isRecordPath } from "../protocol/tree-records.js";
import type { ChecksumAlg } from "../protocol/version.js";
import { escapeControls } from "./safe-name.js";
import { localReason } from "./in-step.js";

const { O_RDONLY, O_NOFOLLOW } = fs.constants;

/**
 * A file whose records were built: what its `R` (PROTOCOL.md §8.14) will be matched with. A
 * file that failed here while it was sent ends with an error `E`, and still gets its `R` (the
 * server's TRANSFER_ABORTED, the echo of it): `error` is the cause to report instead.
 */
export interface SentFile {
  readonly rel: string;
  readonly size: number;
  readonly checksum: string;
  readonly error?: BftpError;
}

/** Options for {@link TreeSource}. */
export interface TreeSourceOptions {
  readonly alg: ChecksumAlg;
  readonly maxChunk: number;
  /** Told about each entry left out (a link, a special file, a name no record can carry). */
  readonly onWarning?: ((message: string) => void) | undefined;
  /** Files the server said it holds (PROTOCOL.md §8.14): not sent. Read as the walk goes. */
  readonly held?: ReadonlySet<string> | undefined;
}

/** A folder being walked: its entries, and how far. */
interface Level {
  readonly dir: string;
  /** What `path.join(dir, name)` puts before a name from the folder's listing: made once. */
  readonly prefix: string;
  readonly rel: string;
  /** Read when the folder's turn comes (its `F` then goes out), not when it is found. */
  entries: fs.Dirent[] | undefined;
  at: number;
  /** Subfolders, walked once the folder's files are sent (the GETTREE order, §8.13). */
  readonly dirs: string[];
}

/** A file larger than one batch, sent across calls. */
interface Big {
  readonly fd: number;
  readonly rel: string;
  readonly size: number;
  readonly sum: Checksum;
  position: number;
}

/**
 * The client's side of a PUTTREE records phase (PROTOCOL.md §8.14, §7.4): walks a local
 * folder and builds its records into a TreeEncoder, a batch at a time. The calls are
 * synchronous (this is the CLI's own process: blocking it briefly costs nothing, and a tree of
 * small files then costs no promise per file); links are never followed (O_NOFOLLOW, and
 * `readdir`'s own types), and are left out with a warning, as special files are.
 */
export class TreeSource {
  readonly #options: TreeSourceOptions;
  readonly #stack: Level[] = [];
  #big: Big | undefined;
  /** Entries left out. */
  skipped = 0;

  constructor(localDir: string, options: TreeSourceOptions) {
    this.#options = options;
    this.#stack.push(level(localDir, ""));
    (this.#stack[0] as Level).entries = fs.readdirSync(localDir, { withFileTypes: true });
  }

  /** True once every record is built. */
  get done(): boolean {
    return this.#stack.length === 0 && this.#big === undefined;
  }

  /**
   * Builds records into `out` until it holds about `budget` bytes or the tree is done;
   * returns the files whose `E` was built, in order.
   */
  fill(out: TreeEncoder, budget: number): SentFile[] {
    const sent: SentFile[] = [];
    while (out.length < budget && !this.done) {
      if (this.#big !== undefined) {
        this.#bigChunk(out, sent);
        continue;
      }
      const top = this.#stack[this.#stack.length - 1] as Level;
      if (top.entries === undefined) {
        try {
          top.entries = fs.readdirSync(top.dir, { withFileTypes: true });
        } catch (err) {
          this.#stack.pop();
          this.#skip(`skipped ${escapeControls(top.dir)}: ${localReason(err)}`);
          continue;
        }
        out.folder(top.rel); // before anything inside it (§7.4)
      }
      const entry = top.entries[top.at++];
      if (entry === undefined) {
        this.#stack.pop();
        // Subfolders in the order found: pushed last to first.
        for (const name of top.dirs.reverse()) {
          this.#stack.push(
            level(path.join(top.dir, name), `${top.rel === "" ? "" : `${top.rel}/`}${name}`),
          );
        }
        continue;
      }
      this.#entry(top, entry, out, sent);
    }
    return sent;
  }

  #entry(top: Level, entry: fs.Dirent, out: TreeEncoder, sent: SentFile[]): void {
    // A listed name has no separator and is neither "." nor "..": joined without parsing.
    const local = `${top.prefix}${entry.name}`;
    const rel = top.rel === "" ? entry.name : `${top.rel}/${entry.name}`;
    if (!isRecordPath(rel) || entry.name === "") {
      this.#skip(`skipped ${escapeControls(local)}: a name the protocol cannot carry`);
      return;
    }
    if (entry.isDirectory()) top.dirs.push(entry.name);
    else if (entry.isFile()) {
      if (this.#options.held?.has(rel) !== true) this.#file(local, rel, out, sent);
    } else this.#skip(`skipped ${escapeControls(local)}: not a regular file or directory`);
  }

  #file(local: string, rel: string, out: TreeEncoder, sent: SentFile[]): void {
    let fd: number;
    try {
      fd = fs.openSync(local, O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      this.#skip(`skipped ${escapeControls(local)}: ${localReason(err)}`);
      return;
    }
    let keep = false;
    try {
      const stats = fs.fstatSync(fd, { bigint: true });
      if (!stats.isFile()) {
        this.#skip(`skipped ${escapeControls(local)}: not a regular file or directory`);
        return;
      }
      const size = Number(stats.size);
      out.head(rel, size, Number(stats.mtimeNs / 1_000_000n)); // whole ms, no float rounding
      const sum = createChecksum(this.#options.alg);
      if (size >= this.#options.maxChunk) {
        this.#big = { fd, rel, size, sum, position: 0 };
        keep = true;
        return;
      }
      // One D frame the file is read straight into (PROTOCOL.md §7.4).
      const frame = size > 0 ? out.dataFrame(size) : undefined;
      const got = frame === undefined ? 0 : readFully(fd, frame.subarray(frame.length - size), 0);
      if (got !== size) {
        this.#failed(out, sent, rel, size, local);
        return;
      }
      if (frame !== undefined)
        out.pushFrame(frame, updateWithCrc(sum, frame.subarray(frame.length - size)));
      const checksum = sum.digest();
      out.endOk(checksum);
      sent.push({ rel, size, checksum });
    } finally {
      if (!keep) fs.closeSync(fd);
    }
  }

  /** The next frame of a large file; its `E` after the last. */
  #bigChunk(out: TreeEncoder, sent: SentFile[]): void {
    const big = this.#big as Big;
    const n = Math.min(this.#options.maxChunk - 1, big.size - big.position);
    const frame = out.dataFrame(n);
    const body = frame.subarray(frame.length - n);
    const whole = readFully(big.fd, body, big.position) === n;
    if (whole) {
      out.pushFrame(frame, updateWithCrc(big.sum, body));
      big.position += n;
      if (big.position < big.size) return;
    }
    this.#big = undefined;
    fs.closeSync(big.fd);
    if (!whole) {
      this.#failed(out, sent, big.rel, big.size, big.rel); // shorter than when it was opened
      return;
    }
    const checksum = big.sum.digest();
    out.endOk(checksum);
    sent.push({ rel: big.rel, size: big.size, checksum });
  }

  /** A file that changed while it was read: aborted on the wire, reported as ours. */
  #failed(out: TreeEncoder, sent: SentFile[], rel: string, size: number, local: string): void {
    const error = new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot send ${JSON.stringify(local)}: it changed while it was read`,
    );
    out.endError(toWireError(error)); // a local code crosses as a generic one, no local path
    sent.push({ rel, size, checksum: "", error });
  }

  #skip(message: string): void {
    this.skipped++;
    this.#options.onWarning?.(message);
  }
}

function level(dir: string, rel: string): Level {
  const prefix = path.join(dir, "x").slice(0, -1);
  return { dir, prefix, rel, entries: undefined, at: 0, dirs: [] };
}

/** Reads into `buffer` from `position` until it is full or the file ends; returns the count. */
function readFully(fd: number, buffer: Buffer, position: number): number {
  let got = 0;
  while (got < buffer.length) {
    const n = fs.readSync(fd, buffer, got, buffer.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
