import fs from "node:fs";
import path from "node:path";
import { BftpError } from "../errors.js";
import { exactSeconds } from "../exact-seconds.js";
import { remoteError, type WireError } from "../protocol/replies.js";
import type { TreeEvent } from "../protocol/tree-decoder.js";
import type { ChecksumAlg } from "../protocol/version.js";
import type { TransferResult } from "./download.js";
import { inStep } from "./in-step.js";
import { partialName, partialPath } from "./partial-name.js";
import { escapeControls, isLocalName, localName } from "./safe-name.js";

const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;

/** Options for {@link TreeSink}. */
export interface TreeSinkOptions {
  /** The remote folder the records' paths are relative to. */
  readonly remoteDir: string;
  readonly alg: ChecksumAlg;
  /** Replace local files that exist (default: refuse each, like `cp -n`). */
  readonly overwrite: boolean;
  /** What the have list said of each path (its SHA-256), for files the server kept. */
  readonly have: ReadonlyMap<
    string,
    { readonly size: number; readonly sha256?: string | undefined }
  >;
  readonly onWarning?: ((message: string) => void) | undefined;
  readonly onFile?: ((result: TransferResult) => void) | undefined;
  /**
   * The list form (PROTOCOL.md §8.13): record path `i` is `targets[i]` itself, and `i/rest`
   * lies below `targets[i].local`; `remoteDir` is then unused.
   */
  readonly targets?: readonly { readonly remote: string; readonly local: string }[] | undefined;
  /**
   * Give each file the sender's modification time (default true: trees keep times). False
   * for a list of single files fetched without `-p`, stamped when written as scp does.
   */
  readonly keepTimes?: boolean | undefined;
}

interface Current {
  readonly remote: string;
  readonly local: string;
  readonly part: string;
  readonly size: number;
  readonly mtime: number;
  /** The partial's descriptor; -1 while the file's bytes are being dropped. */
  fd: number;
  /** Why the file will not be kept, decided before its end. */
  failure: BftpError | undefined;
}

/**
 * Writes a tree data phase's files under a local folder (PROTOCOL.md §8.13), with synchronous
 * calls on the caller's thread, between socket reads: for thousands of small files this is
 * one system call each for open, write, utimes, close, link and unlink, with no thread-pool
 * hand-off (issue 12, item 3). Every record path is checked name by name with `localName`
 * first: a name that could lead outside the folder is skipped with a warning, with
 * everything below it. Each file goes to its `NAME.bftp-part` partial and is given its name
 * (link, or rename with `overwrite`) only after the decoder has checked its size and
 * checksum, with the server's modification time: a file under its own name is complete.
 */
export class TreeSink {
  readonly #root: string;
  readonly #options: TreeSinkOptions;
  /** What `path.posix.join(remoteDir, name)` puts before a plain name: computed once. */
  readonly #remotePrefix: string;
  readonly files: TransferResult[] = [];
  readonly failed: { path: string; error: BftpError }[] = [];
  skipped = 0;
  #current: Current | undefined;
  /** The folder of the latest record path that was checked, and its local path. */
  #lastFolder = "";
  #lastLocal: string | undefined;
  /** The folder part of the last local path and what `partialPath` put before its name. */
  #partDir: string | undefined;
  #partPrefix = "";
  /** Folders skipped (unsafe names, or not made): everything below them is dropped. */
  readonly #dropped = new Set<string>();

  constructor(localDir: string, options: TreeSinkOptions) {
    this.#root = localDir;
    this.#options = options;
    this.#remotePrefix = path.posix.join(options.remoteDir, "x").slice(0, -1);
  }

  /** Acts on one event of the decoder. Local failures are recorded per file; never throws. */
  handle(event: TreeEvent): void {
    switch (event.type) {
      case "data":
        this.#data(event.bytes);
        return;
      case "file":
        this.#begin(event.path, event.size, event.mtime);
        return;
      case "end":
        this.#end(event.checksum, event.error);
        return;
      case "folder":
        this.#folder(event.path);
        return;
      case "skip":
        this.#skip(event.path, event.kind, event.error);
        return;
      case "kept":
        this.#kept(event.path);
        return;
      default:
        return;
    }
  }

  /** An `S` record: the sender's error for that path, or a thing that is not a file. */
  #skip(rel: string, kind: string, error: WireError | undefined): void {
    const local = this.#localOf(rel);
    if (local === undefined) return;
    const remote = this.#remoteOf(rel);
    if (error !== undefined) this.failed.push({ path: remote, error: remoteError(error) });
    else {
      this.skipped++;
      this.#options.onWarning?.(`skipped ${escapeControls(remote)}: a ${kind}, not a file`);
    }
  }

  /** Closes and removes a file left open by a stream that ended early. */
  abandon(): void {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined && current.fd >= 0) {
      fs.closeSync(current.fd);
      fs.rmSync(current.part, { force: true });
    }
  }

  #folder(rel: string): void {
    const local = this.#localOf(rel);
    if (local === undefined) return;
    try {
      fs.mkdirSync(local);
    } catch (err) {
      if ((err as { code?: unknown }).code === "EEXIST" && fs.lstatSync(local).isDirectory())
        return;
      this.#dropped.add(rel);
      this.failed.push({
        path: this.#remoteOf(rel),
        error: inStep(err, `Cannot make the local folder ${JSON.stringify(local)}`),
      });
    }
  }

  #begin(rel: string, size: number, mtime: number): void {
    const remote = this.#remoteOf(rel);
    const local = this.#localOf(rel) ?? "";
    const current: Current = { remote, local, part: "", size, mtime, fd: -1, failure: undefined };
    this.#current = current;
    if (local === "") return; // skipped with a warning: its bytes are dropped
    try {
      // Without overwrite, the link that gives the file its name refuses an existing one
      // (EEXIST, as a per-file GET reports it): no stat per file is needed first.
      const existing = this.#options.overwrite ? lstatOrUndefined(local) : undefined;
      if (existing !== undefined && !existing.isFile()) {
        throw Object.assign(new Error("not a regular file"), { code: "EEXIST" });
      }
      const part = this.#partOf(local);
      current.fd = fs.openSync(part, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
      (current as { part: string }).part = part;
    } catch (err) {
      current.failure = inStep(err, `Cannot download to ${JSON.stringify(local)}`);
    }
  }

  /**
   * `partialPath(local)`, worked out once per folder: `path.join(dirname, name)` puts the
   * same text before any plain name of one folder (a tree's files, a list's targets).
   */
  #partOf(local: string): string {
    const slash = local.lastIndexOf(path.sep);
    if (slash < 0 || slash === local.length - 1) return partialPath(local);
    const dir = local.slice(0, slash);
    const name = partialName(local.slice(slash + 1));
    if (dir === this.#partDir) return `${this.#partPrefix}${name}`;
    const part = partialPath(local);
    this.#partDir = dir;
    this.#partPrefix = part.slice(0, part.length - name.length);
    return part;
  }

  #data(bytes: Buffer): void {
    const current = this.#current;
    if (current === undefined || current.fd < 0) return;
    try {
      for (let at = 0; at < bytes.length;) at += fs.writeSync(current.fd, bytes, at);
    } catch (err) {
      current.failure = inStep(err, `Cannot write ${JSON.stringify(current.local)}`);
      this.#discard(current);
    }
  }

  #end(checksum: string | undefined, error: WireError | undefined): void {
    const current = this.#current;
    this.#current = undefined;
    if (current === undefined || current.local === "") return;
    if (error !== undefined) current.failure ??= remoteError(error);
    if (current.failure === undefined && checksum !== undefined) {
      try {
        if (this.#options.keepTimes !== false) {
          const seconds = exactSeconds(current.mtime);
          fs.futimesSync(current.fd, seconds, seconds);
        }
        fs.closeSync(current.fd);
        current.fd = -1;
        this.#commit(current);
        const result: TransferResult = {
          path: current.remote,
          bytes: current.size,
          size: current.size,
          offset: 0,
          checksum: { alg: this.#options.alg, value: checksum },
        };
        this.files.push(result);
        this.#options.onFile?.(result);
        return;
      } catch (err) {
        current.failure = inStep(
          err,
          `Cannot save the download as ${JSON.stringify(current.local)}`,
        );
      }
    }
    this.#fail(current);
  }

  /** A file that will not be kept: its partial removed, its error recorded. */
  #fail(current: Current): void {
    this.#discard(current);
    this.failed.push({ path: current.remote, error: current.failure ?? internal() });
  }

  /** The verified partial takes its name: never over a file that appeared meanwhile, unless asked. */
  #commit(current: Current): void {
    if (this.#options.overwrite) {
      const now = lstatOrUndefined(current.local);
      if (now !== undefined && !now.isFile()) {
        throw Object.assign(new Error("not a regular file"), { code: "EEXIST" });
      }
      fs.renameSync(current.part, current.local);
      return;
    }
    fs.linkSync(current.part, current.local);
    fs.unlinkSync(current.part);
  }

  #discard(current: Current): void {
    if (current.fd >= 0) fs.closeSync(current.fd);
    current.fd = -1;
    if (current.part !== "") fs.rmSync(current.part, { force: true });
  }

  #kept(rel: string): void {
    const local = this.#localOf(rel);
    if (local === undefined) return;
    const have = this.#options.have.get(rel);
    const size = have?.size ?? 0;
    const result: TransferResult = {
      path: this.#remoteOf(rel),
      bytes: 0,
      size,
      offset: size,
      checksum: { alg: "sha256", value: have?.sha256 ?? "" },
      held: true,
    };
    this.files.push(result);
    this.#options.onFile?.(result);
  }

  #remoteOf(rel: string): string {
    if (this.#options.targets !== undefined) {
      const slash = rel.indexOf("/");
      const target = this.#options.targets[indexOf(slash < 0 ? rel : rel.slice(0, slash))];
      const remote = target?.remote ?? rel;
      return slash < 0 ? remote : path.posix.join(remote, rel.slice(slash + 1));
    }
    // A single plain name needs no normalizing: the same string as `path.posix.join` makes.
    return rel === "" || rel === "." || rel === ".." || rel.includes("/")
      ? path.posix.join(this.#options.remoteDir, rel)
      : `${this.#remotePrefix}${rel}`;
  }

  /**
   * The local path of a record path, each name checked with `localName`; undefined (with a
   * warning, once per unsafe folder) when it could lead outside the target or lies below a
   * folder that was skipped.
   */
  #localOf(rel: string): string | undefined {
    if (this.#options.targets !== undefined) return this.#targetLocal(rel, this.#options.targets);
    // Most records are files in the folder of the one before: check only the last name.
    const slash = rel.lastIndexOf("/");
    const folder = slash < 0 ? "" : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    if (folder === this.#lastFolder && this.#lastLocal !== undefined && isLocalName(name)) {
      return `${this.#lastLocal}${path.sep}${name}`;
    }
    const local = this.#checkedLocal(rel);
    if (local !== undefined) {
      this.#lastFolder = folder;
      this.#lastLocal = path.dirname(local);
    }
    return local;
  }

  /** The list form's local path: the caller's own target, or a checked path below it. */
  #targetLocal(
    rel: string,
    targets: readonly { readonly remote: string; readonly local: string }[],
  ): string | undefined {
    const slash = rel.indexOf("/");
    const target = targets[indexOf(slash < 0 ? rel : rel.slice(0, slash))];
    if (target === undefined) {
      this.skipped++;
      this.#options.onWarning?.(`skipped ${escapeControls(JSON.stringify(rel))}: no such item`);
      return undefined;
    }
    if (slash < 0) return target.local;
    return this.#checkedLocal(rel, target.local, 1);
  }

  #checkedLocal(rel: string, root = this.#root, from = 0): string | undefined {
    const names = rel.split("/");
    for (let i = 1; i < names.length; i++) {
      if (this.#dropped.has(names.slice(0, i).join("/"))) return undefined;
    }
    for (const name of names.slice(from)) {
      try {
        localName(name);
      } catch {
        this.#dropped.add(rel);
        this.skipped++;
        this.#options.onWarning?.(
          `skipped ${escapeControls(JSON.stringify(rel))} in ${escapeControls(this.#options.remoteDir)}: unsafe name from the server`,
        );
        return undefined;
      }
    }
    return path.join(root, ...names.slice(from));
  }
}

/** The item a list-form record path's first name stands for: a canonical index, else -1. */
function indexOf(name: string): number {
  return /^(0|[1-9][0-9]{0,8})$/u.test(name) ? Number(name) : -1;
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  return fs.lstatSync(file, { throwIfNoEntry: false });
}

function internal(): BftpError {
  return new BftpError("BFTP_ERR_INTERNAL", "Cannot save the file");
}
