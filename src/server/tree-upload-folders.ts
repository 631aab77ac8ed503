import fs from "node:fs";
import { promisify } from "node:util";
import { fsError } from "./fs-error.js";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const open = promisify(fs.open);
const close = promisify(fs.close);
const fsync = promisify(fs.fsync);

/** Folders kept open at once (a tree's deeper folders are reopened name by name). */
const MAX_OPEN_DIRS = 64;

/**
 * The folders of a PUTTREE's target (PROTOCOL.md §8.14): each opened once, one name at a
 * time from the target with O_NOFOLLOW, so a folder swapped for a link is refused (ELOOP),
 * never followed (sandbox.ts's rule); at most {@link MAX_OPEN_DIRS} open, oldest closed first.
 * Folders a commit wrote to are flushed before the results that say so go out.
 */
export class UploadFolders {
  readonly #rootFd: number;
  readonly #virtual: (rel: string) => string;
  /** Open folders by record path ("" is the target, never closed here); oldest first. */
  readonly #dirs = new Map<string, number>();
  /** Folders with a commit not yet flushed to disk. */
  readonly #dirty = new Set<number>();

  constructor(rootFd: number, virtual: (rel: string) => string) {
    this.#rootFd = rootFd;
    this.#virtual = virtual;
  }

  /** The folder at `rel` if it is open already (the target always is), without waiting. */
  known(rel: string): number | undefined {
    return rel === "" ? this.#rootFd : this.#dirs.get(rel);
  }

  /**
   * The open folder at `rel`. `settle` is awaited before the oldest folder is closed to make
   * room: work in flight may still commit into it.
   */
  async open(rel: string, settle: () => Promise<void>): Promise<number> {
    if (rel === "") return this.#rootFd;
    const known = this.#dirs.get(rel);
    if (known !== undefined) return known;
    const cut = rel.lastIndexOf("/");
    const parent = await this.open(cut < 0 ? "" : rel.slice(0, cut), settle);
    let fd: number;
    try {
      fd = await open(
        `/proc/self/fd/${parent}/${rel.slice(cut + 1)}`,
        O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
      );
    } catch (err) {
      throw fsError(err, "open", this.#virtual(rel));
    }
    if (this.#dirs.size >= MAX_OPEN_DIRS) {
      await settle();
      const [oldRel, oldFd] = this.#dirs.entries().next().value as [string, number];
      this.#dirs.delete(oldRel);
      if (this.#dirty.delete(oldFd)) await fsync(oldFd).catch(() => undefined);
      await close(oldFd).catch(() => undefined);
    }
    this.#dirs.set(rel, fd);
    return fd;
  }

  /** A commit wrote to the folder `fd`: it is flushed before the next results go. */
  written(fd: number): void {
    this.#dirty.add(fd);
  }

  /** Flushes every folder written to, and those written to meanwhile. */
  async flush(): Promise<void> {
    while (this.#dirty.size > 0) {
      const dirs = [...this.#dirty];
      this.#dirty.clear();
      for (const fd of dirs) await fsync(fd);
    }
  }

  /** Closes every folder, flushing those written to (best effort: the stream is over). */
  async closeAll(): Promise<void> {
    for (const fd of this.#dirs.values()) {
      if (this.#dirty.has(fd)) await fsync(fd).catch(() => undefined);
      await close(fd).catch(() => undefined);
    }
    if (this.#dirty.has(this.#rootFd)) await fsync(this.#rootFd).catch(() => undefined);
    this.#dirty.clear();
    this.#dirs.clear();
  }
}
