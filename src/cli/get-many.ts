import path from "node:path";
import type { Location } from "../client/location.js";
import { localName } from "../client/safe-name.js";
import { downloadMany } from "../client/tree.js";
import { BftpError } from "../errors.js";
import { location, note, usageError, type CommonFlags } from "./common.js";
import { runTransfer } from "./run-transfer.js";
import { localKind } from "./transfer-plan.js";
import { isAlreadyComplete } from "./transfer-report.js";

/** Flags of `bftp get` that a batch reads. */
interface ManyFlags extends CommonFlags {
  readonly recursive?: boolean;
  readonly continue?: boolean;
  readonly overwrite?: boolean;
}

/**
 * `bftp get URL/a URL/b DIR`: several remote files into one existing local folder, over one
 * connection, pipelined (downloadMany), each checked and renamed into place as a single get
 * does. The sources must be on one server (one connection) and have distinct names.
 */
export async function getMany(
  sources: readonly string[],
  local: string,
  flags: ManyFlags,
): Promise<number> {
  const wheres = sources.map(location);
  const first = wheres[0];
  if (first === undefined) throw usageError("Give at least one file to download");
  if (flags.recursive === true) {
    throw usageError("Cannot copy several folders at once with -r: give one folder per command");
  }
  if (local === "-") {
    throw usageError(`Cannot write several files to standard output: give a folder, not "-"`);
  }
  for (const w of wheres) {
    if (!sameServer(w, first)) {
      throw usageError(
        "Cannot download from several servers in one command: the sources share one connection",
      );
    }
  }
  if ((await localKind(local)) !== "dir") {
    throw new BftpError(
      "BFTP_ERR_NOT_A_DIRECTORY",
      `Cannot save ${sources.length} files into ${JSON.stringify(local)}: with several sources the last argument must be an existing folder (create it first)`,
    );
  }
  const seen = new Set<string>();
  const items = wheres.map((w) => {
    const base = path.posix.basename(w.path);
    if (base === "") {
      throw usageError(
        `Cannot choose a local name for ${JSON.stringify(w.path)}: it names no file`,
      );
    }
    const name = localName(base);
    if (seen.has(name)) {
      throw usageError(`Cannot save two sources as ${JSON.stringify(name)} in one folder`);
    }
    seen.add(name);
    return { remote: w.path, local: path.join(local, name) };
  });
  return runTransfer(first, flags, async (client, display) => {
    note(flags, `downloading ${items.length} files into ${local}`);
    const result = await downloadMany(client, items, {
      resume: flags.continue === true,
      overwrite: flags.overwrite === true,
      onProgress: display.onProgress,
      onFile: (f) => {
        display.done(f.path, f.size);
      },
    });
    const localOf = new Map(items.map((i) => [i.remote, i.local]));
    return {
      direction: "get",
      source: sources.join(" "),
      destination: local,
      tree: true,
      files: result.files
        .filter((f) => !isAlreadyComplete(f))
        .map((f) => ({ ...f, local: localOf.get(f.path) ?? local })),
      failed: result.failed,
      kept: result.files.filter(isAlreadyComplete).map((f) => localOf.get(f.path) ?? local),
      skipped: result.skipped,
      warnings: [],
    };
  });
}

function sameServer(a: Location, b: Location): boolean {
  return a.host === b.host && a.port === b.port && a.tls === b.tls && a.user === b.user;
}
