import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { BftpError, isBftpError } from "../../errors.js";
import type { Logger } from "../logger.js";
import { TEMP_PREFIX } from "../sandbox.js";

/**
 * One S3 bucket and prefix served by `bftp serve s3://BUCKET/PREFIX` (issue 15): the S3
 * client every session shares, the reserved prefixes under the served one, and the sweep of
 * abandoned uploads. The AWS SDK is loaded only here, so a disk server never loads it.
 */
export interface S3StoreOptions {
  /** `s3://BUCKET` or `s3://BUCKET/PREFIX`. */
  readonly url: string;
  /** An S3-compatible endpoint (Ceph RGW, MinIO, Garage); AWS's when absent. */
  readonly endpoint?: string;
  /** The region; from AWS_REGION or the profile when absent, else us-east-1. */
  readonly region?: string;
  /** Bytes per multipart part (at least 5 MiB, S3's floor); 8 MiB by default. */
  readonly partSize?: number;
  /** How long a partial upload is kept before the sweep removes it (ms). */
  readonly partialExpiryMs?: number;
  /** Longest wait for one S3 request (ms); 60 s by default. */
  readonly requestTimeoutMs?: number;
  readonly log?: Logger;
}

/** S3's smallest part but the last. */
export const MIN_PART = 5 * 1024 * 1024;
/** Part size by default: a few in flight per upload keep memory bounded and the store busy. */
export const DEFAULT_PART = 8 * 1024 * 1024;
/** The largest object CopyObject copies in one request (a rename, a new modification time). */
export const MAX_COPY = 5 * 1024 * 1024 * 1024;

/** The bucket and key prefix of an `s3://` URL; the prefix is empty or ends with "/". */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  const bucket = match?.[1];
  if (
    match === null ||
    bucket === undefined ||
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)
  ) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot serve ${JSON.stringify(url)}: expected s3://BUCKET or s3://BUCKET/PREFIX with a valid bucket name`,
    );
  }
  const parts = (match[2] ?? "").split("/").filter((p) => p !== "");
  for (const part of parts) {
    if (part === "." || part === ".." || part.startsWith(TEMP_PREFIX)) {
      throw new BftpError(
        "BFTP_ERR_INVALID_ARGUMENT",
        `Cannot serve ${JSON.stringify(url)}: the prefix may not contain ".", ".." or ${TEMP_PREFIX} names`,
      );
    }
  }
  return { bucket, prefix: parts.length === 0 ? "" : `${parts.join("/")}/` };
}

/** The shared part of an S3-backed server. */
export class S3Store {
  readonly client: S3Client;
  readonly bucket: string;
  /** The served prefix: "" or "a/b/". */
  readonly prefix: string;
  readonly partSize: number;
  readonly partialExpiryMs: number;
  readonly log: Logger | undefined;
  /** The SDK's command classes, loaded with it. */
  readonly sdk: typeof import("@aws-sdk/client-s3");
  #sweeper: NodeJS.Timeout | undefined;

  private constructor(
    sdk: typeof import("@aws-sdk/client-s3"),
    client: S3Client,
    options: S3StoreOptions,
  ) {
    const { bucket, prefix } = parseS3Url(options.url);
    this.sdk = sdk;
    this.client = client;
    this.bucket = bucket;
    this.prefix = prefix;
    this.partSize = options.partSize ?? DEFAULT_PART;
    this.partialExpiryMs = options.partialExpiryMs ?? 24 * 3600 * 1000;
    this.log = options.log;
  }

  /**
   * Connects and checks the bucket can be reached with the credentials the standard AWS chain
   * finds (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, instance roles).
   * Sweeps abandoned uploads at once and then every hour.
   */
  static async open(options: S3StoreOptions): Promise<S3Store> {
    parseS3Url(options.url);
    const partSize = options.partSize ?? DEFAULT_PART;
    if (partSize < MIN_PART || partSize % 64 !== 0) {
      throw new BftpError(
        "BFTP_ERR_INVALID_ARGUMENT",
        `Cannot use parts of ${partSize} bytes: S3 needs at least ${MIN_PART}`,
      );
    }
    // This SDK release warns on every start that later ones will need Node 22; the lockfile
    // pins it, and that multi-line warning would break the server's JSON log lines.
    process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
    const sdk = await import("@aws-sdk/client-s3");
    const timeout = options.requestTimeoutMs ?? 60_000;
    const client = new sdk.S3Client({
      ...(options.endpoint === undefined
        ? {}
        : { endpoint: options.endpoint, forcePathStyle: true }),
      region:
        options.region ??
        process.env["AWS_REGION"] ??
        process.env["AWS_DEFAULT_REGION"] ??
        "us-east-1",
      // Ceph RGW (and other S3-compatible stores) refuse the SDK's newer default of a trailing
      // checksum on streamed bodies; bftp checks every transfer end to end itself.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
      requestHandler: { connectionTimeout: Math.min(timeout, 10_000), requestTimeout: timeout },
    });
    const store = new S3Store(sdk, client, options);
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: store.bucket }));
    } catch (err) {
      client.destroy();
      throw s3Error(err, "reach bucket", store.bucket);
    }
    store.#sweeper = setInterval(() => void store.sweep(), 3600_000).unref();
    void store.sweep();
    return store;
  }

  /** The key prefix of the reserved area `name` (hidden from every listing, refused as a path). */
  reserved(name: "meta" | "partials"): string {
    return `${this.prefix}${TEMP_PREFIX}${name}/`;
  }

  /**
   * Aborts multipart uploads and removes partial uploads older than the expiry: those of
   * uploads whose server died, and partials nobody resumed (the disk's sweep does the same).
   */
  async sweep(now = Date.now()): Promise<{ aborted: number; removed: number }> {
    const { sdk, client, bucket } = this;
    let aborted = 0;
    let removed = 0;
    try {
      let keyMarker: string | undefined;
      let idMarker: string | undefined;
      for (;;) {
        const page = await client.send(
          new sdk.ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: this.prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
        );
        for (const upload of page.Uploads ?? []) {
          const started = upload.Initiated?.getTime() ?? now;
          if (now - started < this.partialExpiryMs) continue;
          await client.send(
            new sdk.AbortMultipartUploadCommand({
              Bucket: bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          );
          aborted++;
        }
        if (page.IsTruncated !== true) break;
        keyMarker = page.NextKeyMarker;
        idMarker = page.NextUploadIdMarker;
      }
      let token: string | undefined;
      for (;;) {
        const page = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: this.reserved("partials"),
            ContinuationToken: token,
          }),
        );
        for (const object of page.Contents ?? []) {
          const stored = object.LastModified?.getTime() ?? now;
          if (now - stored < this.partialExpiryMs || object.Key === undefined) continue;
          await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
          removed++;
        }
        if (page.IsTruncated !== true) break;
        token = page.NextContinuationToken;
      }
    } catch (err) {
      this.log?.warn("s3-sweep-failed", { error: s3Error(err, "sweep", this.prefix).code });
    }
    if (aborted + removed > 0) this.log?.info("s3-sweep", { aborted, removed });
    return { aborted, removed };
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.client.destroy();
  }
}

/** The key of the record kept beside an object (its SHA-256, its times): hidden, per key. */
export function metaKey(store: S3Store, key: string): string {
  return `${store.reserved("meta")}${createHash("sha256").update(key).digest("hex")}`;
}

interface S3ErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** The stable code for a failed S3 request (errors.ts), with the first reason kept. */
export function s3Error(err: unknown, verb: string, what: string): BftpError {
  if (isBftpError(err)) return err;
  const e = (err ?? {}) as S3ErrorLike;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? e.code ?? "";
  const at = JSON.stringify(what);
  const wrap = (code: Parameters<typeof bftpError>[0], why: string): BftpError =>
    bftpError(code, `Cannot ${verb} ${at}: ${why}`, err, { s3: name, status: status ?? 0 });
  if (name === "NoSuchKey" || name === "NotFound" || status === 404)
    return wrap("BFTP_ERR_NOT_FOUND", "not found");
  if (name === "PreconditionFailed" || status === 412)
    return wrap("BFTP_ERR_FILE_CHANGED", "the object changed");
  if (
    name === "AccessDenied" ||
    name === "InvalidAccessKeyId" ||
    name === "SignatureDoesNotMatch" ||
    status === 403
  )
    return wrap(
      "BFTP_ERR_PERMISSION_DENIED",
      "the object store refused the credentials or the request",
    );
  if (name === "EntityTooLarge" || name === "QuotaExceeded")
    return wrap("BFTP_ERR_NO_SPACE", "the object store refused the size");
  return wrap("BFTP_ERR_STORAGE", `the object store failed (${name || "no answer"})`);
}

function bftpError(
  code: ConstructorParameters<typeof BftpError>[0],
  message: string,
  cause: unknown,
  details: Record<string, string | number>,
): BftpError {
  return new BftpError(code, message, { cause, details });
}

/**
 * Reads an S3 body in order into callers' buffers: whatever has arrived, at least one byte
 * unless the body ended. A wait longer than `timeoutMs` fails with `BFTP_ERR_STORAGE`.
 */
export class BodyCursor {
  readonly #body: Readable;
  readonly #timeoutMs: number;
  #pending: Buffer | undefined;
  #ended = false;
  #error: unknown;
  /** Where the next byte read lies in the object. */
  position: number;

  constructor(body: Readable, position: number, timeoutMs: number) {
    this.#body = body;
    this.position = position;
    this.#timeoutMs = timeoutMs;
    body.on("end", () => {
      this.#ended = true;
    });
    body.on("error", (err) => {
      this.#error = err;
    });
  }

  async read(target: Buffer, offset = 0, length = target.length - offset): Promise<number> {
    let filled = 0;
    while (filled < length) {
      if (this.#error !== undefined) {
        throw new BftpError("BFTP_ERR_STORAGE", "The object store's answer failed", {
          cause: this.#error,
        });
      }
      if (this.#pending !== undefined) {
        // At most what is asked for: the target may be larger (a range ends inside it).
        const n = this.#pending.copy(
          target,
          offset + filled,
          0,
          Math.min(this.#pending.length, length - filled),
        );
        filled += n;
        this.#pending = n < this.#pending.length ? this.#pending.subarray(n) : undefined;
        continue;
      }
      const chunk = this.#body.read() as Buffer | null;
      if (chunk !== null) {
        this.#pending = chunk;
        continue;
      }
      if (filled > 0 || this.#ended || this.#body.readableEnded) break;
      if (this.#body.destroyed) {
        throw new BftpError("BFTP_ERR_STORAGE", "The object store's answer ended early");
      }
      await this.#wait();
    }
    this.position += filled;
    return filled;
  }

  #wait(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#body.off("readable", done);
        this.#body.off("end", done);
        this.#body.off("error", done);
        this.#body.off("close", done);
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new BftpError("BFTP_ERR_STORAGE", "The object store stopped sending"));
      }, this.#timeoutMs);
      this.#body.on("readable", done);
      this.#body.on("end", done);
      this.#body.on("error", done);
      this.#body.on("close", done);
    });
  }

  close(): void {
    this.#body.destroy();
  }
}
