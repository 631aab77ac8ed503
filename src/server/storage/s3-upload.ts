import { createHash, type Hash } from "node:crypto";
import { BftpError } from "../../errors.js";
import { streamed } from "../young-garbage.js";
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
 * Where a {@link PartWriter}'s parts go: a multipart upload on the target key
 * ({@link MultipartSink}), or the chunks of a resumable upload kept in the store
 * (s3-partials.ts).
 */
export interface PartSink {
  /** Stores full part `number` (1-based); parts may be in flight together. */
  sendPart(number: number, body: Buffer): Promise<void>;
  /**
   * Stores the last bytes (maybe none) after every part, and makes the object appear whole;
   * resolves with its ETag when the store said it (a multipart completion on Ceph does not).
   */
  complete(tail: Buffer): Promise<string | undefined>;
  /** Frees whatever was stored. */
  abort(): Promise<void>;
}

/** Options for {@link PartWriter}. */
export interface PartWriterOptions {
  /** Bytes per part (the store's part size). */
  readonly partSize: number;
  /** Bytes already stored before this writer began (a resumed upload). */
  readonly offset?: number;
  /** Parts already stored. */
  readonly partsBefore?: number;
  /** Bytes stored but not yet a full part, to send again first (a resumed upload's tail). */
  readonly head?: Buffer;
}

/**
 * Streams one upload into the object store, invisible until {@link finish}: bytes gather into
 * a part; each full part goes to the sink while the next fills (at most
 * {@link PARTS_IN_FLIGHT} in flight: `append` waits past that, which is the upload's
 * backpressure). `finish` hands the sink the tail and completes. Memory: at most three parts
 * per upload. The SHA-256 of every byte is computed on the way when the upload starts at 0
 * (HASH answers with it, issue 15).
 */
export class PartWriter {
  readonly #sink: PartSink;
  readonly #part: number;
  readonly #label: string;
  #buffer: Buffer | undefined;
  /**
   * Part buffers whose send has finished, reused for the next parts: a fresh 8 MiB buffer per
   * part would leave the spent ones to the collector, and the server's memory would grow by
   * tens of MB during a large upload before a full collection freed them.
   */
  readonly #spare: Buffer[] = [];
  #filled = 0;
  #size: number;
  #hash: Hash | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: BftpError | undefined;
  #partsStarted: number;
  #done = false;

  constructor(sink: PartSink, label: string, options: PartWriterOptions) {
    this.#sink = sink;
    this.#label = label;
    this.#part = options.partSize;
    this.#size = options.offset ?? 0;
    this.#partsStarted = options.partsBefore ?? 0;
    this.#hash = this.#size === 0 ? createHash("sha256") : undefined;
    const head = options.head;
    if (head !== undefined && head.length > 0) {
      this.#buffer = Buffer.allocUnsafe(this.#part);
      head.copy(this.#buffer);
      this.#filled = head.length;
    }
  }

  /** Bytes of the file so far (from its start, a resumed upload's included). */
  get size(): number {
    return this.#size;
  }

  /** Full parts handed to the sink so far. */
  get parts(): number {
    return this.#partsStarted;
  }

  /** Appends `data` (copied); resolves when there is room for more. */
  async append(data: Uint8Array): Promise<void> {
    this.#check();
    streamed(data.length);
    this.#hash?.update(data);
    let at = 0;
    while (at < data.length) {
      this.#buffer ??= this.#spare.pop() ?? Buffer.allocUnsafe(this.#part);
      const n = Math.min(this.#part - this.#filled, data.length - at);
      this.#buffer.set(data.subarray(at, at + n), this.#filled);
      at += n;
      this.#filled += n;
      this.#size += n;
      if (this.#filled === this.#part) await this.#sendPart();
    }
  }

  /** Writes `data` over bytes at `position` that are still unsent (SFTP's rewrites). */
  overwrite(data: Uint8Array, position: number): void {
    const start = this.#size - this.#filled;
    if (position < start || position + data.length > this.#size || this.#buffer === undefined) {
      throw notInOrder(this.#label);
    }
    this.#buffer.set(data, position - start);
    this.#hash = undefined; // no longer the hash of what is stored: computed when asked
  }

  /** Cuts the unsent bytes back to `size` in all. */
  truncate(size: number): void {
    const start = this.#size - this.#filled;
    if (size < start || size > this.#size) throw notInOrder(this.#label);
    this.#filled = size - start;
    this.#size = size;
    this.#hash = undefined;
  }

  /** Waits for the parts in flight; the unsent bytes, for a resumable upload to keep. */
  async settle(): Promise<Buffer> {
    await this.#settle();
    this.#check();
    return (this.#buffer ?? Buffer.alloc(0)).subarray(0, this.#filled);
  }

  /**
   * Sends what is left and completes: the object appears whole under its key. Resolves with
   * the SHA-256 of its bytes when every byte from the first went through `append` in order.
   */
  async finish(): Promise<{ sha256: string | undefined; etag: string | undefined }> {
    const tail = await this.settle();
    const sha256 = this.#hash?.digest("hex");
    let etag: string | undefined;
    try {
      etag = await this.#sink.complete(tail);
    } catch (err) {
      throw s3Error(err, "store", this.#label);
    }
    this.#done = true;
    this.#buffer = undefined;
    return { sha256, etag };
  }

  /** Drops the upload: what was stored is freed, nothing appears. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#buffer = undefined;
    await this.#settle();
    await this.#sink.abort();
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#done) throw new BftpError("BFTP_ERR_INTERNAL", "The upload has ended");
  }

  /** Sends the filled buffer as the next part; waits while too many are in flight. */
  async #sendPart(): Promise<void> {
    const whole = this.#buffer as Buffer;
    const body = whole.subarray(0, this.#filled);
    this.#buffer = undefined;
    this.#filled = 0;
    const number = ++this.#partsStarted;
    const sent = this.#sink.sendPart(number, body).then(
      () => {
        if (!this.#done) this.#spare.push(whole); // sent: the store no longer reads it
      },
      (err: unknown) => {
        this.#failure ??= s3Error(err, "store", this.#label);
      },
    );
    this.#inFlight.add(sent);
    void sent.finally(() => this.#inFlight.delete(sent));
    while (this.#inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(this.#inFlight);
    this.#check();
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
  }
}

/**
 * Parts into a multipart upload on the target key, created with the first full part: the
 * object appears only when `complete` completes it (an upload smaller than one part is one
 * PutObject). `abort` aborts it, so the store frees its parts; one left by a server that died
 * is aborted by the sweep (S3Store.sweep).
 */
export class MultipartSink implements PartSink {
  readonly #store: S3Store;
  readonly #key: string;
  readonly #meta: () => ObjectMeta;
  #creating: Promise<string> | undefined;
  readonly #parts: { PartNumber: number; ETag: string }[] = [];
  #sentMeta: ObjectMeta | undefined;

  constructor(store: S3Store, key: string, meta: () => ObjectMeta) {
    this.#store = store;
    this.#key = key;
    this.#meta = meta;
  }

  /** The metadata the object was created with, once it was. */
  get sentMeta(): ObjectMeta | undefined {
    return this.#sentMeta;
  }

  async sendPart(number: number, body: Buffer): Promise<void> {
    const { sdk, client, bucket } = this.#store;
    const answer = await client.send(
      new sdk.UploadPartCommand({
        Bucket: bucket,
        Key: this.#key,
        UploadId: await this.#upload(),
        PartNumber: number,
        Body: body,
        ContentLength: body.length,
      }),
    );
    if (answer.ETag === undefined) throw new Error("no ETag for the part");
    this.#parts.push({ PartNumber: number, ETag: answer.ETag });
  }

  async complete(tail: Buffer): Promise<string | undefined> {
    const { sdk, client, bucket } = this.#store;
    if (this.#creating === undefined) {
      const meta = this.#meta();
      this.#sentMeta = meta;
      const put = await client.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: this.#key,
          Body: tail,
          ContentLength: tail.length,
          Metadata: metadataOf(meta),
        }),
      );
      return put.ETag;
    }
    if (tail.length > 0) await this.sendPart(this.#parts.length + 1, tail);
    const parts = [...this.#parts].sort((a, b) => a.PartNumber - b.PartNumber);
    await client.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: this.#key,
        UploadId: await this.#upload(),
        MultipartUpload: { Parts: parts },
      }),
    );
    return undefined; // Ceph answers an empty ETag here (a known RGW bug): asked with HEAD
  }

  async abort(): Promise<void> {
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
          return created.UploadId;
        });
    }
    return this.#creating;
  }
}

function notInOrder(key: string): BftpError {
  return new BftpError(
    "BFTP_ERR_NOT_SUPPORTED",
    `Cannot write ${JSON.stringify(key)} out of order: an object store takes an upload's bytes in order, and only its last part can change`,
  );
}
