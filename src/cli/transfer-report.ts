import type { TransferResult } from "../client/download.js";
import { escapeControls } from "../client/safe-name.js";
import type { BftpError } from "../errors.js";
import { EXIT, exitCodeFor, formatBytes, say, sayJson, type CommonFlags } from "./common.js";

/** One file a get or put moved. */
export interface MovedFile extends TransferResult {
  /** The local file it was saved to or read from. */
  readonly local: string;
}

/**
 * `file` with its local path. Written out field by field: spreading each of a tree's 10,000
 * results into a new object took some 15 ms of `get -r` (issue 12).
 */
export function movedFile(file: TransferResult, local: string): MovedFile {
  const moved: { -readonly [K in keyof MovedFile]: MovedFile[K] } = {
    path: file.path,
    bytes: file.bytes,
    size: file.size,
    offset: file.offset,
    checksum: file.checksum,
    local,
  };
  if (file.mtime !== undefined) moved.mtime = file.mtime;
  if (file.held !== undefined) moved.held = file.held;
  return moved;
}

/** What a get or put did, for the result line, the JSON document and the exit code. */
export interface TransferReport {
  readonly direction: "get" | "put";
  /** What was asked for, as people wrote it (remote path or local path). */
  readonly source: string;
  readonly destination: string;
  /** True for `-r` on a folder: the summary counts files. */
  readonly tree: boolean;
  readonly files: readonly MovedFile[];
  readonly failed: readonly { readonly path: string; readonly error: BftpError }[];
  /** With -c, files already complete at the destination (checked by SHA-256): not moved. */
  readonly kept: readonly string[];
  /** Entries not copied: unsafe names from the server, links, special files. */
  readonly skipped: number;
  readonly warnings: readonly string[];
  readonly ms: number;
}

/**
 * Prints a transfer's result and returns its exit code: 0 when everything was copied;
 * 5 (partial) when some files failed or were skipped; 4 when the connection was lost on
 * the way. With --json, one document: `{ok, source, destination, files, failed, kept,
 * skipped, warnings, bytes, ms}`.
 */
export function finishTransfer(report: TransferReport, flags: CommonFlags): number {
  const bytes = report.files.reduce((sum, f) => sum + f.bytes, 0);
  const complete = report.failed.length === 0 && report.skipped === 0;
  const lost = report.failed.some((f) => exitCodeFor(f.error) === EXIT.lost);
  const code = complete ? EXIT.ok : lost ? EXIT.lost : EXIT.partial;
  // The document is built only when asked for: a tree's is one object per file.
  if (flags.json === true) {
    sayJson(flags, {
      ok: complete,
      source: report.source,
      destination: report.destination,
      files: report.files.map((f) => ({
        remote: f.path,
        local: f.local,
        bytes: f.bytes,
        size: f.size,
        offset: f.offset,
        checksum: f.checksum,
      })),
      failed: report.failed.map((f) => ({
        path: f.path,
        code: f.error.code,
        message: f.error.message,
      })),
      kept: report.kept,
      skipped: report.skipped,
      warnings: report.warnings,
      bytes,
      ms: report.ms,
    });
    return code;
  }
  const speed = `${formatBytes(bytes)} in ${seconds(report.ms)}, ${formatBytes(rate(bytes, report.ms))}/s`;
  const file = report.files[0];
  const kept = report.kept[0];
  if (!report.tree && kept !== undefined) {
    say(flags, `${escapeControls(kept)} is already complete: nothing to continue`);
  } else if (!report.tree && file !== undefined) {
    const where = report.direction === "get" ? file.local : file.path;
    const resumed = file.offset > 0 ? `, resumed at ${formatBytes(file.offset)}` : "";
    say(
      flags,
      `${report.direction === "get" ? "saved" : "uploaded"} ${escapeControls(where)} (${speed}${resumed})`,
    );
  } else {
    const already = report.kept.length > 0 ? `; ${report.kept.length} already complete` : "";
    say(
      flags,
      `copied ${report.files.length} file${report.files.length === 1 ? "" : "s"} to ${escapeControls(report.destination)} (${speed})${already}`,
    );
  }
  for (const f of report.failed) {
    process.stderr.write(
      `bftp: failed ${escapeControls(f.path)}: ${escapeControls(f.error.message)} (${f.error.code})\n`,
    );
  }
  const existing = report.failed.filter((f) => isExistsFailure(f.error, report.direction));
  if (existing.length > 0) {
    process.stderr.write(
      `bftp: ${existing.length} file${existing.length === 1 ? "" : "s"} existed at the destination and ${existing.length === 1 ? "was" : "were"} left alone: use --overwrite to replace them (with -c, identical files count as done)\n`,
    );
  }
  if (report.skipped > 0) {
    process.stderr.write(
      `bftp: skipped ${report.skipped} entr${report.skipped === 1 ? "y" : "ies"} that could not be copied${flags.quiet === true ? "" : " (see the warnings above)"}\n`,
    );
  }
  return code;
}

/** The failure of a file that exists at the destination (no-clobber refused it). */
export function isExistsFailure(error: BftpError, direction: "get" | "put"): boolean {
  if (direction === "put") return error.code === "BFTP_ERR_EXISTS";
  const cause = error.cause as { code?: unknown } | undefined;
  return error.code === "BFTP_ERR_LOCAL_FILE" && cause?.code === "EEXIST";
}

/**
 * A download the library found already complete (with -c, the local file is the whole remote
 * file, checked by SHA-256): nothing moved, the offset is the size.
 */
export function isAlreadyComplete(file: TransferResult): boolean {
  return file.bytes === 0 && file.size > 0 && file.offset === file.size;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function rate(bytes: number, ms: number): number {
  return ms > 0 ? Math.round((bytes * 1000) / ms) : 0;
}
