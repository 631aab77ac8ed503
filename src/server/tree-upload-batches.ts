import { toWireError, type WireError } from "../protocol/replies.js";
import { fsError } from "./fs-error.js";
import { sharedFsPool } from "./fs-pool.js";
import { FIELDS, packFile, type BatchFile, type WriteFilesResult } from "./tree-upload-jobs.js";

/** Files up to this size are committed in batches on the worker pool (tree-upload-jobs.ts). */
export const SMALL_FILE = 256 * 1024;
/** Bytes and files of one batch. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_FILES = 512;
/** Deadline of one batch on the pool (as GETTREE's, §8.13). */
const BATCH_TIMEOUT_MS = 30_000;

/** A small file's room in the batch filling; `start` moves when the batch goes before it ends. */
export interface Slot {
  start: number;
  readonly size: number;
}

/** A verified file for a batch, with what its result needs. */
export interface BatchEntry extends BatchFile {
  readonly rel: string;
  readonly virtual: string;
}

/** Options for {@link CommitBatches}. */
export interface CommitBatchesOptions {
  readonly overwrite: boolean;
  /** Staging files are `${staging}${serial}`, outside the served tree. */
  readonly staging: string;
  /** Tracks a staging file for the session to remove if it dies first; returns the untrack. */
  readonly trackTemp: (path: string) => () => void;
  /** Each file's outcome, in order, once its batch is answered (`error` when not committed). */
  readonly onResult: (file: BatchEntry, error: WireError | undefined) => void;
  /** A batch was answered and its results given. */
  readonly onAnswered: () => void;
}

/**
 * The small files of a PUTTREE, committed in batches on the worker pool (PROTOCOL.md §8.14,
 * issue 12 item 3): their bytes gather in one buffer while the batch before is staged,
 * flushed, stamped and committed on the pool, so the records loop never waits for the disk
 * unless both buffers are full. The buffer moves to the worker and comes back (no copy, and
 * no fresh pages each batch). Results come out in the order of the files.
 */
export class CommitBatches {
  readonly #options: CommitBatchesOptions;
  #batch: BatchEntry[] = [];
  #arena = Buffer.allocUnsafeSlow(BATCH_BYTES + SMALL_FILE);
  /** A buffer the pool gave back, for the next batch. */
  #spare: ArrayBuffer | undefined;
  #used = 0;
  /** The room of the file still arriving, if any. */
  #open: Slot | undefined;
  /** The batches sent to the pool and not yet answered, as one wait. */
  #inflight: Promise<void> = Promise.resolve();
  #busy = 0;

  constructor(options: CommitBatchesOptions) {
    this.#options = options;
  }

  /** Whether a batch is on the pool. */
  get busy(): boolean {
    return this.#busy > 0;
  }

  /** Room for the file now arriving; waits for the batch before when this one is full. */
  async reserve(size: number): Promise<Slot> {
    if (this.#full(size)) await this.startNext();
    return this.#take(size);
  }

  /** Room for the file now arriving when this batch has it, without waiting; else undefined. */
  reserveNow(size: number): Slot | undefined {
    return this.#full(size) ? undefined : this.#take(size);
  }

  #full(size: number): boolean {
    return this.#used + size > this.#arena.length || this.#batch.length >= BATCH_FILES;
  }

  #take(size: number): Slot {
    const slot = { start: this.#used, size };
    this.#used += size;
    this.#open = slot;
    return slot;
  }

  /** Copies bytes of the file arriving to `offset` in its room (the decoder checked the size). */
  copy(slot: Slot, bytes: Buffer, offset: number): void {
    bytes.copy(this.#arena, slot.start + offset);
  }

  /** Gives the room back (a file that failed before its end). */
  release(slot: Slot): void {
    if (this.#open === slot) this.#used = slot.start;
    this.#open = undefined;
  }

  /**
   * Adds the verified file whose room this is; a full batch goes once the one before is done
   * (the promise; undefined when nothing waits).
   */
  add(slot: Slot, file: Omit<BatchEntry, "start" | "size">): Promise<void> | undefined {
    if (this.#open === slot) this.#open = undefined;
    // Field by field: a spread per file was most of this method's cost (issue 12).
    this.#batch.push({
      rel: file.rel,
      virtual: file.virtual,
      dirFd: file.dirFd,
      name: file.name,
      serial: file.serial,
      mtime: file.mtime,
      start: slot.start,
      size: slot.size,
    });
    return this.#used >= BATCH_BYTES ? this.startNext() : undefined;
  }

  /** Commits the batch filling and waits for every batch: their results are given. */
  async runAll(): Promise<void> {
    this.dispatch();
    await this.#inflight;
  }

  /**
   * Starts the batch once the one before it is done: one batch is committed on the pool while
   * the next fills here (at most two buffers besides the one filling).
   */
  async startNext(): Promise<void> {
    await this.#inflight;
    this.dispatch();
  }

  /**
   * Sends the batch filling to the worker pool; its results are given, after those of the
   * batch before it, when it answers. Its staging files are the session's to remove until
   * then (the worker removes those it could not commit); a batch that missed its deadline
   * ends the connection, and they are removed with it.
   */
  dispatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    // A small file still arriving has the last bytes reserved: they move to the next buffer.
    const open = this.#open;
    const old = this.#arena;
    const bytes = old.subarray(0, open?.start ?? this.#used);
    this.#batch = [];
    this.#arena =
      this.#spare === undefined
        ? Buffer.allocUnsafeSlow(BATCH_BYTES + SMALL_FILE)
        : Buffer.from(this.#spare);
    this.#spare = undefined;
    this.#used = 0;
    if (open !== undefined) {
      old.copy(this.#arena, 0, open.start, open.start + open.size);
      open.start = 0;
      this.#used = open.size;
    }
    const numbers = new Float64Array(batch.length * FIELDS);
    let names = "";
    const { staging } = this.#options;
    const untrack = batch.map((file, i) => {
      packFile(numbers, i, file);
      names += `${file.name}/`;
      return this.#options.trackTemp(`${staging}${file.serial}`);
    });
    // The buffers move to the worker (`old` is detached here, and never used again).
    const running = sharedFsPool().run<WriteFilesResult>(
      { op: "writeFiles", overwrite: this.#options.overwrite, bytes, numbers, names, staging },
      BATCH_TIMEOUT_MS,
      [old.buffer, numbers.buffer],
    );
    running.catch(() => undefined); // awaited below, after the batch before it
    const previous = this.#inflight;
    this.#busy++;
    const done = (async (): Promise<void> => {
      await previous;
      const { failed, buffer } = await running.finally(() => {
        this.#busy--;
      });
      this.#spare = buffer;
      for (const stop of untrack) stop();
      let next = 0;
      batch.forEach((file, i) => {
        const failure = failed[next];
        if (failure?.index !== i) {
          this.#options.onResult(file, undefined);
          return;
        }
        next++;
        this.#options.onResult(file, toWireError(fsError(failure, "create", file.virtual)));
      });
      this.#options.onAnswered();
    })();
    done.catch(() => undefined); // awaited by the next wait for the batches
    this.#inflight = done;
  }
}
