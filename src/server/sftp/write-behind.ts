import type { UploadHandle } from "../storage/storage.js";

/** Bytes gathered before one write to the file: eight of OpenSSH's 32 KiB WRITEs. */
const BATCH = 256 * 1024;

/**
 * Gathers an SFTP upload's contiguous WRITEs into 256 KiB writes to its staged file. OpenSSH's
 * client writes 32 KiB at a time; one thread-pool write each was the largest part of the
 * server's busy time, as one read each was for downloads (read-ahead.ts).
 *
 * A WRITE is acknowledged once its bytes are copied into the batch, before they reach the
 * file: safe here because nothing an SFTP client writes is visible until CLOSE, and CLOSE
 * first calls {@link drain}, which writes what is gathered and throws the first failure of
 * any write, so an upload with a lost write is never committed. At most two batches are held
 * (one being written, one gathering): a WRITE that finds both busy waits, so a slow disk
 * slows the client through SSH's window.
 */
export class WriteBehind {
  readonly #file: UploadHandle;
  #batch = Buffer.allocUnsafe(BATCH);
  #start = 0;
  #length = 0;
  /** The write of the previous batch, if one is under way. */
  #writing: Promise<void> = Promise.resolve();
  /** The order WRITEs are taken in: each waits for the one before it. */
  #turn: Promise<void> = Promise.resolve();
  #error: Error | undefined;

  constructor(file: UploadHandle) {
    this.#file = file;
  }

  /** Takes `data` for `position`; resolves when it may be acknowledged. */
  write(data: Buffer, position: number): Promise<void> {
    const turn = this.#turn.then(async () => {
      this.#check();
      const contiguous = position === this.#start + this.#length;
      if (this.#length > 0 && (!contiguous || this.#length + data.length > BATCH)) {
        await this.#send();
      }
      if (data.length >= BATCH) {
        // Too large to gather: written as it is, after what came before it.
        await this.#writing;
        this.#check();
        await this.#file.write(data, position);
        return;
      }
      if (this.#length === 0) this.#start = position;
      data.copy(this.#batch, this.#length);
      this.#length += data.length;
    });
    this.#turn = turn.catch(() => undefined);
    return turn;
  }

  /** Writes everything gathered; throws the first failure of any write. */
  async drain(): Promise<void> {
    await this.#turn;
    if (this.#length > 0) await this.#send();
    await this.#writing;
    this.#check();
  }

  /** Starts writing the gathered batch, once the previous one is written. */
  async #send(): Promise<void> {
    await this.#writing;
    this.#check();
    const bytes = this.#batch.subarray(0, this.#length);
    const at = this.#start;
    this.#batch = Buffer.allocUnsafe(BATCH);
    this.#length = 0;
    this.#writing = this.#file.write(bytes, at).catch((err: unknown) => {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#error;
  }
}
