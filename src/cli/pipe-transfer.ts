import { Writable } from "node:stream";
import type { BftpClient } from "../client/client.js";
import type { Location } from "../client/location.js";
import { BftpError } from "../errors.js";
import { note, statOrNone, usageError, type CommonFlags } from "./common.js";
import type { TransferReport } from "./transfer-report.js";

/** The argument that stands for standard input (put) or standard output (get). */
export const STDIO = "-";

/** Flags a pipe transfer reads. */
interface PipeFlags extends CommonFlags {
  readonly recursive?: boolean;
  readonly continue?: boolean;
  readonly overwrite?: boolean;
}

/**
 * Refuses what cannot go through a pipe: a folder (-r), -c (a pipe has no partial to continue
 * and cannot be read again) and --json (stdout carries the data, for get).
 */
export function checkPipeFlags(flags: PipeFlags, direction: "get" | "put"): void {
  if (flags.recursive === true) throw usageError(`Cannot copy a folder through "-": drop -r`);
  if (flags.continue === true) {
    throw usageError(
      `Cannot continue a transfer through "-": a pipe cannot be read again; drop -c`,
    );
  }
  if (direction === "get" && flags.json === true) {
    throw usageError(
      `Cannot print --json on standard output while it carries the data: drop --json`,
    );
  }
}

/**
 * Standard output as a Writable whose writes complete once flushed (backpressure), and which
 * never ends it. A reader that goes away (EPIPE, as in `bftp get URL - | head -c 10`) ends the
 * process quietly, by the handler every command has (bftp.ts): the reader asked for no more.
 */
function standardOutput(): Writable {
  return new Writable({
    highWaterMark: 0,
    write(chunk: Buffer, _encoding, done) {
      process.stdout.write(chunk, (err) => {
        done(err ?? undefined);
      });
    },
  });
}

/**
 * `bftp get URL -`: the remote file's bytes on standard output, checked against the sender's
 * checksum and length before exit 0. Nothing else goes to stdout (no result line, no bars).
 * A failure after some bytes were written still exits non-zero: the reader must not trust them.
 */
export async function getToStdout(
  client: BftpClient,
  where: Location,
  flags: CommonFlags,
): Promise<Omit<TransferReport, "ms">> {
  note(flags, `downloading ${where.path} to standard output`);
  const result = await client.download(where.path, standardOutput());
  return report("get", where.path, STDIO, { ...result, local: STDIO });
}

/**
 * `bftp put - URL/name`: standard input uploaded with no size in advance (PUT's `size` is
 * optional, PROTOCOL.md §8.8): the server still checks the checksum, and commits the file
 * under its name only once every byte arrived (atomic), so an interrupted pipe leaves the
 * old file or nothing. Not resumable: a pipe cannot be read again.
 */
export async function putFromStdin(
  client: BftpClient,
  where: Location,
  flags: PipeFlags,
): Promise<Omit<TransferReport, "ms">> {
  const target = where.path;
  const existing = target.endsWith("/") ? undefined : await statOrNone(client, target);
  if (target.endsWith("/") || existing?.type === "dir") {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot name an upload from standard input after ${JSON.stringify(target)}: give the file's name, as in bftp put - bftp://HOST/dir/name`,
    );
  }
  // Checked before any byte is read (PROTOCOL.md §7.3: a refused PUT still carries its data).
  if (existing !== undefined && flags.overwrite !== true) {
    throw new BftpError(
      "BFTP_ERR_EXISTS",
      `Cannot upload to ${JSON.stringify(target)}: it exists on the server (use --overwrite to replace it)`,
    );
  }
  note(flags, `uploading standard input to ${target}`);
  const result = await client.upload(process.stdin, target, {
    overwrite: flags.overwrite === true,
    resumable: false,
  });
  return report("put", STDIO, target, { ...result, local: STDIO });
}

function report(
  direction: "get" | "put",
  source: string,
  destination: string,
  file: TransferReport["files"][number],
): Omit<TransferReport, "ms"> {
  return {
    direction,
    source,
    destination,
    tree: false,
    files: [file],
    failed: [],
    kept: [],
    skipped: 0,
    warnings: [],
  };
}
