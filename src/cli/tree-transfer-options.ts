import type { DownloadOptions, TransferResult } from "../client/download.js";
import { escapeControls } from "../client/safe-name.js";
import type { BatchOptions } from "../client/tree.js";
import { formatBytes, type CommonFlags } from "./common.js";
import type { ProgressDisplay } from "./progress-display.js";

/** The flags of `bftp get -r` and `bftp put -r` that a tree transfer reads. */
export interface TreeTransferFlags extends CommonFlags {
  readonly continue?: boolean;
  readonly overwrite?: boolean;
}

/** Where a tree transfer's news goes, and the word for a file it moved. */
export interface TreeTransferContext {
  readonly display: ProgressDisplay;
  /** `got` for downloads, `sent` for uploads: `bftp: got a/b.txt (1.5 KiB)` with -v. */
  readonly verb: "got" | "sent";
}

/** Options for downloadTree or uploadTree, and the warnings they collect. */
export interface TreeTransferOptions {
  readonly options: BatchOptions & Pick<DownloadOptions, "resume" | "overwrite" | "onProgress">;
  /** Filled as the transfer runs, for the JSON document. */
  readonly warnings: string[];
}

/**
 * The options `bftp get -r` and `bftp put -r` pass to the tree transfer: -c and --overwrite,
 * progress to the display, each warning collected (and shown unless -q or --json), each
 * finished file counted (and named with -v). Lines go through the display so they do not
 * tear its bars.
 *
 * @example
 * const { options, warnings } = treeTransferOptions(flags, { display, verb: "got" });
 * const result = await downloadTree(client, "/photos", "photos", options);
 */
export function treeTransferOptions(
  flags: TreeTransferFlags,
  { display, verb }: TreeTransferContext,
): TreeTransferOptions {
  const warnings: string[] = [];
  const options = {
    resume: flags.continue === true,
    overwrite: flags.overwrite === true,
    onProgress: display.onProgress,
    onWarning: (message: string) => {
      warnings.push(message);
      if (flags.quiet !== true && flags.json !== true) {
        display.log(`bftp: warning: ${escapeControls(message)}`);
      }
    },
    onFile: (file: TransferResult) => {
      display.done(file.path, file.size);
      if (flags.verbose === true && flags.quiet !== true && flags.json !== true) {
        display.log(`bftp: ${verb} ${escapeControls(file.path)} (${formatBytes(file.bytes)})`);
      }
    },
  };
  return { options, warnings };
}
