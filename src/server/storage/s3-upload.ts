import { createHash, type Hash } from "node:crypto";
import { BftpError } from "../../errors.js";
import { s3Error, type S3Store } from "./s3-store.js";

/** Parts uploaded at once per upload, beside the one being filled. */
const PARTS_IN_FLIGHT = 2;

/** What an object is stored with: bftp's own metadata (S3 lower-cases the names). */
export interface ObjectMeta {
  /** Modification time, ms since the epoch (the store's own time when absent). */
  mtime?: number;
  /** Permission bits. */
  mode?: number;
}

/** The metadata headers for `meta`. */
export function metadataOf(meta: ObjectMeta): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.mtime !== undefined) out["bftp-mtime"] = String(Math.trunc(meta.mtime));
  if (meta.mode !== undefined) out["bftp-mode"] = (meta.mode & 0o777).toString(8);
  return out;
}

/** The metadata an object was stored with. */
export function metaOf(headers: Record<string, string> | undefined): ObjectMeta {
  const mtime = Number(headers?.["bftp-mtime"]);
  const mode = parseInt(headers?.["bftp-mode"] ?? "", 8);
  return {
    ...(Number.isSafeInteger(mtime) && mtime >= 0 ? { mtime } : {}),
    ...(Number.isInteger(mode) && mode >= 0 && mode <= 0o777 ? { mode } : {}),
  };
}

/**
 * Streams one upload into the object store, invisible until {@link finish}: bytes gather into
 * a part of `store.partSize` bytes; each full part is sent as a multipart upload's part while
 * the next fills (at most {@link PARTS_IN_FLIGHT} in flight: `append` waits past that, which
 * is the upload's backpressure). `finish` sends the tail and completes the upload, which puts
 * the whole object under its key in one step; an upload smaller than one part is one
 * PutObject. `abort` aborts the multipart upload, so its parts are freed. Memory: at most
 * three parts per upload. The SHA-256 of every byte is computed on the way (issue 15: HASH
 * answers with it).
 */
export class PartWriter {
  readonly #store: S3Store;
  readonly #key: string;
  readonly #meta: () => ObjectMeta;
  #buffer: Buffer | undefined;
  #filled = 0;
  #size = 0;
  #hash: Hash | undefined = createHash("sha256");
  #uploadId: string | undefined;
  #creating: Promise<string> | undefined;
  readonly #parts: { PartNumber: number; ETag: string }[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #failure: BftpError | undefined;
  #partsStarted = 0;
  #sentMeta: ObjectMeta | undefined;
  #done = false;

  constructor(store: S3Store, key: string, meta: () => ObjectMeta) {
    this.#store = store;
    this.#key = key;
    this.#meta = meta;
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.#size;
  }

  /** Bytes not yet sent to the store (the part being filled): the only ones that can change. */
  get unsent(): number {
    return this.#filled;
  }

  /** The metadata the object was created with, once it was (else undefined). */
  get sentMeta(): ObjectMeta | undefined {
    return this.#sentMeta;
  }

  /** Appends `data` (copied); resolves when there is room for more. */
  async append(data: Uint8Array): Promise<void> {
    this.#check();
    this.#hash?.update(data);
    const part = this.#store.partSize;
    let at = 0;
    while (at < data.length) {
      this.#buffer ??= Buffer.allocUnsafe(part);
      const n = Math.min(part - this.#filled, data.length - at);
      this.#buffer.set(data.subarray(at, at + n), this.#filled);
      at += n;
      this.#filled += n;
      this.#size += n;
      if (this.#filled === part) await this.#sendPart();
    }
  }

  /** Writes `data` over bytes at `position` that are still unsent (SFTP's rewrites). */
  overwrite(data: Uint8Array, position: number): void {
    const start = this.#size - this.#filled;
    if (position < start || position + data.length > this.#size || this.#buffer === undefined) {
      throw notInOrder(this.#key);
    }
    this.#buffer.set(data, position - start);
    this.#hash = undefined; // no longer the hash of what is stored: computed when asked
  }

  /** Cuts the unsent bytes back to `size` in all. */
  truncate(size: number): void {
    const start = this.#size - this.#filled;
    if (size < start || size > this.#size) throw notInOrder(this.#key);
    this.#filled = size - start;
    this.#size = size;
    this.#hash = undefined;
  }

  /**
   * Sends what is left and completes the upload: the object appears whole under its key.
   * Resolves with the SHA-256 of its bytes when every byte went through `append` in order.
   */
  async finish(): Promise<{ sha256: string | undefined }> {
    this.#check();
    const { sdk, client, bucket } = this.#store;
    const sha256 = this.#hash?.digest("hex");
    try {
      if (this.#uploadId === undefined && this.#creating === undefined) {
        const meta = this.#meta();
        this.#sentMeta = meta;
        const body = (this.#buffer ?? Buffer.alloc(0)).subarray(0, this.#filled);
        await client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: this.#key,
            Body: body,
            ContentLength: body.length,
            Metadata: metadataOf(meta),
          }),
        );
      } else {
        if (this.#filled > 0) await this.#sendPart();
        await this.#settle();
        this.#check();
        const parts = [...this.#parts].sort((a, b) => a.PartNumber - b.PartNumber);
        await client.send(
          new sdk.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: this.#key,
            UploadId: await this.#upload(),
            MultipartUpload: { Parts: parts },
          }),
        );
      }
    } catch (err) {
      throw s3Error(err, "store", this.#key);
    }
    this.#done = true;
    this.#buffer = undefined;
    return { sha256 };
  }

  /** Drops the upload: its parts are freed, nothing appears. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#buffer = undefined;
    await this.#settle();
    const id = await this.#creating?.catch(() => undefined);
    if (id === undefined) return;
    const { sdk, client, bucket } = this.#store;
    await client
      .send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: this.#key, UploadId: id }))
      .catch((err: unknown) => {
        // The sweep aborts it after the expiry.
        this.#store.log?.warn("s3-abort-failed", {
          key: this.#key,
          error: s3Error(err, "abort", this.#key).code,
        });
      });
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#done) throw new BftpError("BFTP_ERR_INTERNAL", "The upload has ended");
  }

  #upload(): Promise<string> {
    if (this.#creating === undefined) {
      const { sdk, client, bucket } = this.#store;
      const meta = this.#meta();
      this.#sentMeta = meta;
      this.#creating = client
        .send(
          new sdk.CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: this.#key,
            Metadata: metadataOf(meta),
          }),
        )
        .then((created) => {
          if (created.UploadId === undefined) throw new Error("no UploadId in the answer");
          this.#uploadId = created.UploadId;
          return created.UploadId;
        });
    }
    return this.#creating;
  }

  /** Sends the filled buffer as the next part; waits while too many are in flight. */
  async #sendPart(): Promise<void> {
    const body = (this.#buffer as Buffer).subarray(0, this.#filled);
    this.#buffer = undefined;
    this.#filled = 0;
    const number = ++this.#partsStarted;
    const { sdk, client, bucket } = this.#store;
    const sent = (async () => {
      const id = await this.#upload();
      const answer = await client.send(
        new sdk.UploadPartCommand({
          Bucket: bucket,
          Key: this.#key,
          UploadId: id,
          PartNumber: number,
          Body: body,
          ContentLength: body.length,
        }),
      );
      if (answer.ETag === undefined) throw new Error("no ETag for the part");
      this.#parts.push({ PartNumber: number, ETag: answer.ETag });
    })().catch((err: unknown) => {
      this.#failure ??= s3Error(err, "store", this.#key);
    });
    this.#inFlight.add(sent);
    void sent.finally(() => this.#inFlight.delete(sent));
    while (this.#inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(this.#inFlight);
    this.#check();
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
  }
}

function notInOrder(key: string): BftpError {
  return new BftpError(
    "BFTP_ERR_NOT_SUPPORTED",
    `Cannot write ${JSON.stringify(key)} out of order: an object store takes an upload's bytes in order, and only its last part can change`,
  );
}
