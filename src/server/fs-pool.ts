import { Worker } from "node:worker_threads";
import { BftpError } from "../errors.js";
import { remoteError, type WireError } from "../protocol/replies.js";
import type { FsJob } from "./tree-jobs.js";

/** Options for {@link FsPool}. */
export interface FsPoolOptions {
  /** Worker threads (default 2). */
  readonly size?: number;
  /** Jobs waiting for a worker, over all sessions, before `BFTP_ERR_BUSY` (default 1024). */
  readonly maxQueued?: number;
  /** Workers given up as hung and not yet exited, before the pool stops replacing them (default 4). */
  readonly maxHung?: number;
  /** The worker's module (default: tree-worker.js beside this file); tests give their own. */
  readonly workerUrl?: URL;
}

interface Pending {
  readonly job: FsJob;
  readonly timeoutMs: number;
  /** Buffers moved to the worker with the job rather than copied (the caller's are detached). */
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: BftpError) => void;
}

interface Slot {
  readonly worker: Worker;
  current: (Pending & { timer: NodeJS.Timeout; id: number }) | undefined;
}

const WORKER_URL = new URL("./tree-worker.js", import.meta.url);

/**
 * A small pool of worker threads that run batches of synchronous file-system calls for tree
 * transfers (issue 12, item 3), shared by every session of the process. Each job has a
 * deadline: a job that misses it (a hung disk) rejects with `BFTP_ERR_TIMEOUT`, its worker
 * is given up and replaced, so one stuck disk fails the session that met it and no other.
 * A thread blocked in a system call cannot be stopped; at most `maxHung` such are tolerated
 * before the pool stops replacing them (then jobs fail with `BFTP_ERR_BUSY`). The queue is
 * bounded; each session runs one job at a time.
 *
 * @example
 * const listing = await sharedFsPool().run<DirListing>({ op: "openDir", ... }, 30_000);
 */
export class FsPool {
  readonly #size: number;
  readonly #maxQueued: number;
  readonly #maxHung: number;
  readonly #workerUrl: URL;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #hung = 0;
  #nextId = 1;

  constructor(options: FsPoolOptions = {}) {
    this.#size = options.size ?? 2;
    this.#maxQueued = options.maxQueued ?? 1024;
    this.#maxHung = options.maxHung ?? 4;
    this.#workerUrl = options.workerUrl ?? WORKER_URL;
  }

  /**
   * Runs `job` on a worker; rejects with `BFTP_ERR_TIMEOUT` if it takes over `timeoutMs`.
   * The buffers in `transfer` are moved to the worker, not copied: the caller must not use
   * them again (a megabyte batch copied by the structured clone cost more than its writes).
   */
  run<T>(job: FsJob, timeoutMs: number, transfer: readonly ArrayBuffer[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#queue.length >= this.#maxQueued) {
        reject(
          new BftpError(
            "BFTP_ERR_BUSY",
            "Cannot read the files now: the server is busy; try again",
          ),
        );
        return;
      }
      this.#queue.push({
        job,
        timeoutMs,
        transfer,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.#dispatch();
    });
  }

  /** Stops every worker (tests; a server that closes). */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.current === undefined);
      if (slot === undefined && this.#slots.length < this.#size) slot = this.#spawn();
      if (slot === undefined) {
        if (this.#slots.length === 0) {
          // Every worker hung: refuse rather than queue forever.
          for (const p of this.#queue.splice(0)) {
            p.reject(
              new BftpError(
                "BFTP_ERR_BUSY",
                "Cannot read the files: the server's disk is not answering",
              ),
            );
          }
        }
        return;
      }
      const pending = this.#queue.shift() as Pending;
      const id = this.#nextId++;
      const owner = slot;
      const timer = setTimeout(() => {
        this.#giveUp(owner);
      }, pending.timeoutMs);
      slot.current = { ...pending, timer, id };
      slot.worker.postMessage({ id, job: pending.job }, pending.transfer);
    }
  }

  #spawn(): Slot | undefined {
    if (this.#hung > 0 && this.#hung >= this.#maxHung) return undefined;
    // Descriptors a worker opens are handed to the main thread (big files, folders) and closed
    // there: the worker must not track them, nor close them when it exits.
    const worker = new Worker(this.#workerUrl, { trackUnmanagedFds: false });
    const slot: Slot = { worker, current: undefined };
    worker.on("message", (message: { id: number; result?: unknown; error?: WireError }) => {
      const current = slot.current;
      if (current?.id !== message.id) return;
      clearTimeout(current.timer);
      slot.current = undefined;
      if (message.error !== undefined) current.reject(remoteError(message.error));
      else current.resolve(message.result);
      this.#dispatch();
    });
    worker.on("error", () => {
      this.#drop(
        slot,
        new BftpError("BFTP_ERR_INTERNAL", "Cannot read the files: a worker failed"),
      );
    });
    worker.on("exit", () => {
      this.#drop(
        slot,
        new BftpError("BFTP_ERR_INTERNAL", "Cannot read the files: a worker stopped"),
      );
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref(); // an idle pool never keeps the process alive
    this.#slots.push(slot);
    return slot;
  }

  /** A job missed its deadline: fail it, give its worker up, let a fresh one take the queue. */
  #giveUp(slot: Slot): void {
    const current = slot.current;
    slot.current = undefined;
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    this.#hung++;
    slot.worker.removeAllListeners("exit");
    slot.worker.once("exit", () => {
      this.#hung--;
    });
    void slot.worker.terminate();
    current?.reject(
      new BftpError(
        "BFTP_ERR_TIMEOUT",
        "Cannot read the files: the server's disk did not answer in time",
      ),
    );
    this.#dispatch();
  }

  #drop(slot: Slot, reason: BftpError): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    if (slot.current !== undefined) {
      clearTimeout(slot.current.timer);
      slot.current.reject(reason);
      slot.current = undefined;
    }
    this.#dispatch();
  }
}

let shared: FsPool | undefined;

/** The process's pool, made on first use. */
export function sharedFsPool(): FsPool {
  shared ??= new FsPool();
  return shared;
}
