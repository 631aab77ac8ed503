import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { configDir } from "../config-dir.js";
import type { Logger } from "./logger.js";
import type { Anchor } from "./sandbox.js";
import { ROOT_STAGING, sweepUploads } from "./temp-files.js";

/** The staging folder `bftp serve` uses without `--temp-dir`: `<config dir>/uploads`. */
export function defaultTempDir(): string {
  return path.join(configDir(), "uploads");
}

/** Options for {@link UploadStaging.open}. */
export interface StagingOptions {
  /** The folder for upload files (`--temp-dir`); the server keeps its own sub-folder there. */
  readonly dir: string;
  /** The served root (real path). */
  readonly root: string;
  readonly log: Logger;
}

/**
 * Where uploads are written before they are committed (issue 11, item 3): a folder outside the
 * served tree, so nothing but complete files ever shows in it, whatever is killed when. Each
 * upload's bytes go to their own file there and are committed by a rename or a hard link into
 * the target's directory (commands/put.ts), which only works within one file system.
 *
 * So for a target whose directory is on another file system than the staging folder, uploads
 * are staged in a hidden folder (`.bftp-uploads`, mode 0700) at the top of the root, or of the
 * mount inside the root that holds the target: refused to every command and never listed, like
 * every `.bftp-` name (PROTOCOL.md §6). The server warns once per root when that happens.
 *
 * The server's folder is `DIR/<hash of the root>`, so servers of different roots that share
 * `DIR` never sweep each other's files.
 */
export class UploadStaging {
  /** The server's own staging folder. */
  readonly folder: string;
  /** Its device; undefined when it could not be made (then every root uses its own). */
  readonly #dev: number | undefined;
  readonly #root: string;
  readonly #log: Logger;
  /** Hidden staging folders at the top of a root, made once each (by real path). */
  readonly #made = new Map<string, Promise<string>>();
  /** Root devices, by real path. */
  readonly #devices = new Map<string, Promise<number>>();
  readonly #warned = new Set<string>();

  private constructor(folder: string, dev: number | undefined, root: string, log: Logger) {
    this.folder = folder;
    this.#dev = dev;
    this.#root = root;
    this.#log = log;
  }

  /** The server's own folder inside `dir` for `root`. */
  static folderFor(dir: string, root: string): string {
    const key = createHash("sha256").update(root).digest("hex").slice(0, 16);
    return path.join(path.resolve(dir), key);
  }

  /** Makes (mode 0700) and opens the server's staging folder. */
  static async open(options: StagingOptions): Promise<UploadStaging> {
    const folder = UploadStaging.folderFor(options.dir, options.root);
    let dev: number | undefined;
    try {
      await fs.mkdir(folder, { recursive: true, mode: 0o700 });
      const stats = await fs.lstat(folder);
      if (stats.isDirectory()) dev = stats.dev;
    } catch (err) {
      options.log.warn("temp-dir-unusable", {
        tempDir: folder,
        error: String((err as { code?: unknown }).code ?? err),
      });
    }
    return new UploadStaging(folder, dev, options.root, options.log);
  }

  /**
   * Opens the staging folder, warns when the root cannot use it, and sweeps what earlier runs
   * left (temp-files.ts). Run once per served root, before any upload can start.
   */
  static async prepare(options: StagingOptions & { readonly ttlMs: number }): Promise<void> {
    const staging = await UploadStaging.open(options);
    await staging.checkRoot();
    await sweepUploads({ ...options, staging: staging.folder });
  }

  /** Warns when uploads to the served root are staged inside it (another file system). */
  async checkRoot(): Promise<void> {
    const dev = await this.#deviceOf(this.#root).catch(() => undefined);
    if (dev !== undefined && dev !== this.#dev) this.#warn(this.#root);
  }

  /**
   * The folder for the upload files of a target in `anchor`'s directory, in the root `root`
   * (the session's sandbox root): the server's own, or the root's hidden one when the target's
   * directory is on another file system.
   */
  async areaFor(root: string, anchor: Anchor): Promise<string> {
    const { dev } = await anchor.dir.stat();
    if (dev === this.#dev) return this.folder;
    const top = dev === (await this.#deviceOf(root)) ? root : anchor.realDir;
    // The served root was warned about at start-up by the process that swept (checkRoot);
    // an account's root, or a mount inside one, is warned about on its first upload.
    if (top !== this.#root) this.#warn(top);
    return this.#make(path.join(top, ROOT_STAGING));
  }

  /** Removes the server's folder if it is empty (nothing kept for resume). */
  async close(): Promise<void> {
    await fs.rmdir(this.folder).catch(() => undefined);
  }

  #deviceOf(root: string): Promise<number> {
    let known = this.#devices.get(root);
    if (known === undefined) {
      known = fs.stat(root).then((s) => s.dev);
      this.#devices.set(root, known);
    }
    return known;
  }

  #make(dir: string): Promise<string> {
    let made = this.#made.get(dir);
    if (made === undefined) {
      made = makePrivateFolder(dir);
      this.#made.set(dir, made);
      made.catch(() => this.#made.delete(dir)); // try again next time
    }
    return made;
  }

  #warn(top: string): void {
    if (this.#warned.has(top)) return;
    this.#warned.add(top);
    this.#log.warn("temp-dir-elsewhere", {
      root: top,
      tempDir: this.folder,
      note: `uploads to ${top} are staged in its hidden ${ROOT_STAGING} folder: the temp dir is on another file system; give --temp-dir a folder on the same file system to keep the served folder clean`,
    });
  }
}

/** Makes a folder only its owner may enter, or checks the one there is a folder, not a link. */
async function makePrivateFolder(dir: string): Promise<string> {
  await fs.mkdir(dir, { mode: 0o700 }).catch((err: unknown) => {
    if ((err as { code?: unknown }).code !== "EEXIST") throw err;
  });
  const stats = await fs.lstat(dir);
  if (!stats.isDirectory()) {
    throw Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR" });
  }
  return dir;
}
