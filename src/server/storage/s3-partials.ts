import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { BodyCursor, s3Error, type S3Store } from "./s3-store.js";
import { metadataOf, type ObjectMeta, type PartSink } from "./s3-upload.js";

/**
 * A partial upload kept in the object store (issue 15, PROTOCOL.md §10): the bytes of a
 * resumable PUT stored as chunk objects of one part each under a hidden prefix, plus the
 * last bytes short of a part (`tail`) when the upload was cut while its server lived, and
 * this record (`manifest`) listing them in order. Every server reads the same record, so an
 * upload cut on one node resumes through any other. The record is rewritten after each chunk
 * is stored, and only ever lists chunks stored whole and in order: a node killed mid-upload
 * leaves a record of what it had stored.
 */
export interface Manifest {
  /** The virtual path being uploaded (for the operator; the prefix is its key). */
  readonly path: string;
  /** Bytes kept: every chunk (one part each), then the tail. */
  readonly size: number;
  /** Bytes per chunk (every chunk but the tail), chosen when the upload began. */
  readonly partSize: number;
  /** Chunk keys, in file order. */
  readonly chunks: readonly string[];
  /** The key of the bytes after the last chunk, shorter than a part. */
  readonly tail?: string;
  readonly tailSize?: number;
}

/** Longest wait for the next bytes of a chunk read back (RESUME's checksum), ms. */
const READ_STALL_MS = 60_000;

/** The partial uploads in one store. */
export class S3Partials {
  readonly #store: S3Store;

  constructor(store: S3Store) {
    this.#store = store;
  }

  /** The prefix of the partial `user` keeps for `virtual` in the account root `root`. */
  prefixFor(user: string, root: string, virtual: string): string {
    const key = createHash("sha256")
      .update(`${user}\0${root}\0${virtual}`)
      .digest("hex")
      .slice(0, 32);
    return `${this.#store.reserved("partials")}${key}/`;
  }

  async read(prefix: string): Promise<Manifest | undefined> {
    const { sdk, client, bucket } = this.#store;
    let text: string | undefined;
    try {
      const answer = await client.send(
        new sdk.GetObjectCommand({ Bucket: bucket, Key: `${prefix}manifest` }),
      );
      text = await answer.Body?.transformToString();
    } catch (err) {
      const mapped = s3Error(err, "read the partial upload", prefix);
      if (mapped.code === "BFTP_ERR_NOT_FOUND") return undefined;
      throw mapped;
    }
    const record = JSON.parse(text ?? "null") as Manifest | null;
    if (
      record === null ||
      !Array.isArray(record.chunks) ||
      typeof record.size !== "number" ||
      typeof record.partSize !== "number"
    ) {
      return undefined;
    }
    return record;
  }

  async write(prefix: string, manifest: Manifest): Promise<void> {
    const { sdk, client, bucket } = this.#store;
    const body = JSON.stringify(manifest);
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}manifest`,
        Body: body,
        ContentLength: Buffer.byteLength(body),
      }),
    );
  }

  /** Removes a partial: its record first (so nothing points at missing chunks), then its chunks. */
  async remove(prefix: string, manifest: Manifest, extra: readonly string[] = []): Promise<void> {
    await this.removeKeys([
      `${prefix}manifest`,
      ...manifest.chunks,
      ...(manifest.tail === undefined ? [] : [manifest.tail]),
      ...extra,
    ]);
  }

  /** Removes objects of partials (chunks no record lists any more), one by one. */
  async removeKeys(keys: readonly string[]): Promise<void> {
    const { sdk, client, bucket } = this.#store;
    for (const key of new Set(keys)) {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {
        // Left for the sweep, after the expiry.
      });
    }
  }

  /** The bytes of the tail object. */
  async readTail(manifest: Manifest): Promise<Buffer> {
    if (manifest.tail === undefined) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    await this.#readEach([manifest.tail], (chunk) => parts.push(Buffer.from(chunk)));
    return Buffer.concat(parts);
  }

  /** The SHA-256 of the bytes kept, read back from the store in order (RESUME). */
  async sha256(manifest: Manifest): Promise<string> {
    const digest = createHash("sha256");
    const keys = [...manifest.chunks, ...(manifest.tail === undefined ? [] : [manifest.tail])];
    await this.#readEach(keys, (chunk) => digest.update(chunk));
    return digest.digest("hex");
  }

  async #readEach(keys: readonly string[], take: (chunk: Buffer) => void): Promise<void> {
    const { sdk, client, bucket } = this.#store;
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (const key of keys) {
      let cursor: BodyCursor | undefined;
      try {
        const answer = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        cursor = new BodyCursor(answer.Body as Readable, 0, READ_STALL_MS);
        for (let n = await cursor.read(buffer); n > 0; n = await cursor.read(buffer)) {
          take(buffer.subarray(0, n));
        }
      } catch (err) {
        throw s3Error(err, "read the partial upload", key);
      } finally {
        cursor?.close();
      }
    }
  }
}

/**
 * A resumable upload's parts, stored as chunk objects of a partial (see {@link Manifest}),
 * the record rewritten as each chunk in order is stored. `complete` builds the object with a
 * multipart upload whose parts are copied inside the store from the chunks (UploadPartCopy),
 * then removes the partial; `keep` stores the last bytes short of a part as the tail, so a
 * client that resumes loses nothing; `abort` removes what this upload stored.
 */
export class ChunkSink implements PartSink {
  readonly #store: S3Store;
  readonly #partials: S3Partials;
  readonly #prefix: string;
  readonly #path: string;
  readonly #target: string;
  readonly #meta: () => ObjectMeta;
  readonly #token = randomBytes(6).toString("hex");
  /** Chunks in file order that are stored (those of the upload resumed, then this one's). */
  readonly #chunks: string[];
  readonly #done = new Map<number, string>();
  /** Keys to remove once a record no longer lists them (the resumed upload's tail). */
  readonly #obsolete: string[];
  #recording: Promise<void> = Promise.resolve();
  readonly #partSize: number;

  constructor(
    store: S3Store,
    partials: S3Partials,
    options: {
      readonly prefix: string;
      readonly path: string;
      readonly target: string;
      readonly meta: () => ObjectMeta;
      readonly resumed?: Manifest;
      /** Bytes per chunk (the resumed upload's, if any). */
      readonly partSize: number;
    },
  ) {
    this.#store = store;
    this.#partials = partials;
    this.#prefix = options.prefix;
    this.#path = options.path;
    this.#target = options.target;
    this.#meta = options.meta;
    this.#chunks = [...(options.resumed?.chunks ?? [])];
    this.#obsolete = options.resumed?.tail === undefined ? [] : [options.resumed.tail];
    this.#partSize = options.partSize;
  }

  async sendPart(number: number, body: Buffer): Promise<void> {
    const key = `${this.#prefix}${this.#token}-${String(number).padStart(5, "0")}`;
    const { sdk, client, bucket } = this.#store;
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
      }),
    );
    this.#done.set(number, key);
    let advanced = false;
    for (let next = this.#done.get(this.#chunks.length + 1); next !== undefined;) {
      this.#done.delete(this.#chunks.length + 1);
      this.#chunks.push(next);
      advanced = true;
      next = this.#done.get(this.#chunks.length + 1);
    }
    if (advanced) await this.#record();
  }

  /** Rewrites the record with the chunks stored in order so far (one write at a time). */
  #record(tail?: { key: string; size: number }): Promise<void> {
    const manifest: Manifest = {
      path: this.#path,
      size: this.#chunks.length * this.#partSize + (tail?.size ?? 0),
      partSize: this.#partSize,
      chunks: [...this.#chunks],
      ...(tail === undefined ? {} : { tail: tail.key, tailSize: tail.size }),
    };
    const obsolete = this.#obsolete.splice(0);
    this.#recording = this.#recording
      .then(() => this.#partials.write(this.#prefix, manifest))
      .then(() => this.#partials.removeKeys(obsolete));
    return this.#recording;
  }

  async keep(tail: Buffer): Promise<void> {
    if (tail.length === 0) {
      await this.#record();
      return;
    }
    const key = `${this.#prefix}${this.#token}-tail`;
    const { sdk, client, bucket } = this.#store;
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: tail,
        ContentLength: tail.length,
      }),
    );
    await this.#record({ key, size: tail.length });
  }

  async complete(tail: Buffer): Promise<string | undefined> {
    await this.#recording;
    let etag: string | undefined;
    const { sdk, client, bucket } = this.#store;
    const meta = metadataOf(this.#meta());
    if (this.#chunks.length === 0) {
      const put = await client.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: this.#target,
          Body: tail,
          ContentLength: tail.length,
          Metadata: meta,
        }),
      );
      etag = put.ETag;
    } else {
      const created = await client.send(
        new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: this.#target, Metadata: meta }),
      );
      const id = created.UploadId;
      try {
        const parts: { PartNumber: number; ETag: string }[] = [];
        for (const [i, chunk] of this.#chunks.entries()) {
          const copied = await client.send(
            new sdk.UploadPartCopyCommand({
              Bucket: bucket,
              Key: this.#target,
              UploadId: id,
              PartNumber: i + 1,
              CopySource: `${bucket}/${chunk.split("/").map(encodeURIComponent).join("/")}`,
            }),
          );
          const etag = copied.CopyPartResult?.ETag;
          if (etag === undefined) throw new Error("no ETag for a copied part");
          parts.push({ PartNumber: i + 1, ETag: etag });
        }
        if (tail.length > 0) {
          const sent = await client.send(
            new sdk.UploadPartCommand({
              Bucket: bucket,
              Key: this.#target,
              UploadId: id,
              PartNumber: parts.length + 1,
              Body: tail,
              ContentLength: tail.length,
            }),
          );
          if (sent.ETag === undefined) throw new Error("no ETag for the part");
          parts.push({ PartNumber: parts.length + 1, ETag: sent.ETag });
        }
        await client.send(
          new sdk.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: this.#target,
            UploadId: id,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (err) {
        await client
          .send(
            new sdk.AbortMultipartUploadCommand({
              Bucket: bucket,
              Key: this.#target,
              UploadId: id,
            }),
          )
          .catch(() => undefined);
        throw err;
      }
    }
    // Committed: the partial is superseded (§8.8).
    await this.#partials.remove(
      this.#prefix,
      { path: this.#path, size: 0, partSize: this.#partSize, chunks: this.#chunks },
      [...this.#obsolete, ...this.#done.values()],
    );
    return etag;
  }

  async abort(): Promise<void> {
    await this.#recording.catch(() => undefined);
    await this.#partials.remove(
      this.#prefix,
      { path: this.#path, size: 0, partSize: this.#partSize, chunks: this.#chunks },
      [...this.#obsolete, ...this.#done.values()],
    );
  }
}
