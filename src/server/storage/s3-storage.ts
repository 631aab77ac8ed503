import { createHash } from "node:crypto";
import path from "node:path";
import type { Readable } from "node:stream";
import type { HeadObjectCommandOutput } from "@aws-sdk/client-s3";
import { BftpError } from "../../errors.js";
import { normalizeVirtual, TEMP_PREFIX } from "../sandbox.js";
import { BodyCursor, MAX_COPY, metaKey, s3Error, type S3Store } from "./s3-store.js";
import { S3Partials } from "./s3-partials.js";
import { metadataOf, metaOf, MultipartSink, PartWriter, type ObjectMeta } from "./s3-upload.js";
import type {
  FolderReader,
  ReadHandle,
  Storage,
  StoredEntry,
  UploadHandle,
  UploadOptions,
} from "./storage.js";

/** Objects described at once while a folder is listed (their metadata holds mtime and mode). */
const HEAD_GROUP = 32;

/** Longest wait for the next bytes of an object being read, ms. */
const READ_STALL_MS = 60_000;

/** A file as the store describes it: its entry, its ETag (its version), and the key. */
export interface StoredObject {
  readonly entry: StoredEntry;
  readonly key: string;
  readonly etag: string;
}

/**
 * One account's tree in an S3 bucket (issue 15): the account's root is a key prefix, a
 * folder is a prefix (and, when made by MKDIR or left empty, a zero-byte marker object named
 * `folder/`), a file is an object. Paths follow the same rules as on a disk (PROTOCOL.md §6,
 * `normalizeVirtual`): no climb above the root, no reserved `.bftp-` names, so no path can
 * name a key outside the account's prefix or bftp's own records.
 *
 * What differs from a disk (docs/scale-out.md): uploads are committed by completing a
 * multipart upload (atomic: the object appears whole or not at all), but there is no
 * atomic "create only if absent", so two uploads racing to one new name without overwrite
 * may both commit (the later wins); renaming a file copies it then deletes the original;
 * renaming a folder, links and rewriting part of an existing file are refused
 * (`BFTP_ERR_NOT_SUPPORTED`); a folder's time is 0; modes are recorded, not enforced.
 */
export class S3Storage implements Storage {
  readonly kind = "s3";
  readonly store: S3Store;
  readonly partials: S3Partials;
  /** The account's key prefix: "" or "a/b/". */
  readonly #base: string;

  constructor(store: S3Store, root: string) {
    this.store = store;
    this.partials = new S3Partials(store);
    const normal = normalizeVirtual("/", root);
    this.#base = normal === "/" ? store.prefix : `${store.prefix}${normal.slice(1)}/`;
  }

  normalize(cwd: string, input: string): string {
    return normalizeVirtual(cwd, input);
  }

  /** The object key of a (normalised) virtual path; "" for the root. */
  /** Where `user`'s partial upload of `virtual` is kept (s3-partials.ts). */
  partialPrefix(user: string, virtual: string): string {
    return this.partials.prefixFor(user, this.#base, virtual);
  }

  keyOf(virtual: string): string {
    return virtual === "/" ? this.#base : `${this.#base}${virtual.slice(1)}`;
  }

  /** The key prefix of a folder's content. */
  folderPrefix(virtual: string): string {
    return virtual === "/" ? this.#base : `${this.keyOf(virtual)}/`;
  }

  async stat(cwd: string, input: string): Promise<StoredEntry> {
    const virtual = this.normalize(cwd, input);
    const found = await this.#describe(virtual);
    if (found === undefined) throw await this.#missing("describe", virtual);
    return found;
  }

  /** The file at `virtual` with its version, or undefined if there is none (a folder, nothing). */
  async object(virtual: string): Promise<StoredObject | undefined> {
    if (virtual === "/") return undefined;
    const key = this.keyOf(virtual);
    const head = await this.#head(key);
    if (head === undefined) return undefined;
    return { entry: fileEntry(virtual, head), key, etag: head.ETag ?? "" };
  }

  async #describe(virtual: string): Promise<StoredEntry | undefined> {
    if (virtual === "/") return folderEntry("/");
    const [file, folder] = await Promise.all([this.object(virtual), this.#isFolder(virtual)]);
    if (file !== undefined) return file.entry;
    return folder ? folderEntry(virtual) : undefined;
  }

  async #head(key: string): Promise<HeadObjectCommandOutput | undefined> {
    const { sdk, client, bucket } = this.store;
    try {
      return await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      const mapped = s3Error(err, "describe", key);
      if (mapped.code === "BFTP_ERR_NOT_FOUND") return undefined;
      throw mapped;
    }
  }

  /** Whether any key lies under the folder (its marker included). */
  async #isFolder(virtual: string): Promise<boolean> {
    if (virtual === "/") return true;
    const { sdk, client, bucket } = this.store;
    try {
      const page = await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: bucket,
          Prefix: this.folderPrefix(virtual),
          MaxKeys: 1,
        }),
      );
      return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
    } catch (err) {
      throw s3Error(err, "describe", virtual);
    }
  }

  /**
   * Why nothing is at `virtual`: `BFTP_ERR_NOT_A_DIRECTORY` when a file stands on the way (as
   * a disk says), else `BFTP_ERR_NOT_FOUND`.
   */
  async #missing(verb: string, virtual: string): Promise<BftpError> {
    const ancestors: string[] = [];
    for (let at = path.posix.dirname(virtual); at !== "/"; at = path.posix.dirname(at)) {
      ancestors.push(at);
    }
    const files = await Promise.all(ancestors.map((at) => this.object(at)));
    const file = files.find((f) => f !== undefined);
    if (file === undefined) return notFound(verb, virtual);
    return new BftpError(
      "BFTP_ERR_NOT_A_DIRECTORY",
      `Cannot ${verb} ${JSON.stringify(virtual)}: ${JSON.stringify(file.entry.path)} is a file`,
    );
  }

  /** Refuses a path whose parent folder does not exist or is a file, as a disk would. */
  async #parentMustBeFolder(virtual: string, verb: string): Promise<void> {
    const parent = path.posix.dirname(virtual);
    if (parent === "/") return;
    const [file, folder] = await Promise.all([this.object(parent), this.#isFolder(parent)]);
    if (file !== undefined) {
      throw new BftpError(
        "BFTP_ERR_NOT_A_DIRECTORY",
        `Cannot ${verb} ${JSON.stringify(virtual)}: ${JSON.stringify(parent)} is a file`,
      );
    }
    if (!folder) throw notFound(verb, virtual);
  }

  resolveLink(cwd: string, input: string): Promise<string> {
    const virtual = this.normalize(cwd, input);
    return Promise.reject(notSupported("read the link", virtual, "an object store has no links"));
  }

  async openFolder(cwd: string, input: string): Promise<FolderReader> {
    const virtual = this.normalize(cwd, input);
    const found = await this.#describe(virtual);
    if (found === undefined) throw await this.#missing("list", virtual);
    if (found.type !== "dir") {
      throw new BftpError(
        "BFTP_ERR_NOT_A_DIRECTORY",
        `Cannot list ${JSON.stringify(virtual)}: not a directory`,
      );
    }
    return new S3Folder(this, virtual);
  }

  async openRead(cwd: string, input: string): Promise<S3ReadHandle> {
    const virtual = this.normalize(cwd, input);
    const found = await this.object(virtual);
    if (found === undefined) {
      if (await this.#isFolder(virtual)) {
        throw new BftpError(
          "BFTP_ERR_IS_A_DIRECTORY",
          `Cannot read ${JSON.stringify(virtual)}: it is a directory`,
        );
      }
      throw await this.#missing("open", virtual);
    }
    return new S3ReadHandle(this.store, found);
  }

  /**
   * Refuses, at commit, an upload without `overwrite` whose name was taken meanwhile (one HEAD;
   * not atomic: S3 has no create-if-absent, docs/scale-out.md).
   */
  async stillFree(virtual: string, overwrite: boolean): Promise<void> {
    if (overwrite) return;
    if ((await this.object(virtual)) !== undefined) {
      throw new BftpError("BFTP_ERR_EXISTS", `Cannot create ${JSON.stringify(virtual)}: it exists`);
    }
  }

  /** Refuses an upload that cannot be committed, before any byte is sent. */
  async refuseTarget(virtual: string, overwrite: boolean): Promise<StoredObject | undefined> {
    if (virtual === "/")
      throw new BftpError("BFTP_ERR_IS_A_DIRECTORY", 'Cannot upload to "/": it is a directory');
    const [existing, folder] = await Promise.all([
      this.object(virtual),
      this.#isFolder(virtual),
      this.#parentMustBeFolder(virtual, "upload to"),
    ]);
    if (folder) {
      throw new BftpError(
        "BFTP_ERR_IS_A_DIRECTORY",
        `Cannot upload to ${JSON.stringify(virtual)}: it is a directory`,
      );
    }
    if (existing !== undefined && !overwrite) {
      throw new BftpError("BFTP_ERR_EXISTS", `Cannot create ${JSON.stringify(virtual)}: it exists`);
    }
    return existing;
  }

  async openUpload(cwd: string, input: string, options: UploadOptions): Promise<S3Upload> {
    const virtual = this.normalize(cwd, input);
    const existing = await this.refuseTarget(virtual, options.overwrite);
    // Opened without truncation (scp does, then cuts the file to what it wrote): the upload
    // starts empty, and commits only if the client wrote or cut away every old byte.
    const kept = options.keep && existing !== undefined ? existing.entry.size : 0;
    return new S3Upload(
      this,
      virtual,
      options.overwrite,
      options.partSize ?? this.store.partSize,
      kept,
    );
  }

  /**
   * Records an object's SHA-256 beside it, for HASH (kept only while its ETag is the same):
   * the ETag the store gave when the object was written, or asked with HEAD.
   */
  async recordHash(key: string, sha256: string, knownEtag?: string): Promise<void> {
    const etag =
      knownEtag !== undefined && knownEtag !== "" ? knownEtag : (await this.#head(key))?.ETag;
    if (etag === undefined || etag === "") return;
    const { sdk, client, bucket } = this.store;
    const body = JSON.stringify({ key, etag, sha256 });
    await client
      .send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: metaKey(this.store, key),
          Body: body,
          ContentLength: Buffer.byteLength(body),
        }),
      )
      .catch((err: unknown) => {
        this.store.log?.warn("s3-hash-record-failed", {
          key,
          error: s3Error(err, "record", key).code,
        });
      });
  }

  /** The SHA-256 recorded for this version of an object, if any. */
  async recordedHash(found: StoredObject): Promise<string | undefined> {
    const { sdk, client, bucket } = this.store;
    try {
      const answer = await client.send(
        new sdk.GetObjectCommand({ Bucket: bucket, Key: metaKey(this.store, found.key) }),
      );
      const record = JSON.parse((await answer.Body?.transformToString()) ?? "{}") as {
        key?: unknown;
        etag?: unknown;
        sha256?: unknown;
      };
      return record.key === found.key &&
        record.etag === found.etag &&
        typeof record.sha256 === "string"
        ? record.sha256
        : undefined;
    } catch {
      return undefined; // none recorded, or unreadable: HASH computes it
    }
  }

  async makeFolder(
    cwd: string,
    input: string,
    options: { parents?: boolean } = {},
  ): Promise<string> {
    const virtual = this.normalize(cwd, input);
    const chain: string[] = [];
    for (let at = virtual; at !== "/"; at = path.posix.dirname(at)) chain.unshift(at);
    if (virtual === "/") {
      if (options.parents === true) return "/";
      throw new BftpError("BFTP_ERR_EXISTS", 'Cannot create directory "/": it exists');
    }
    if (options.parents !== true) {
      await this.#parentMustBeFolder(virtual, "create directory");
      if ((await this.#describe(virtual)) !== undefined) {
        throw new BftpError(
          "BFTP_ERR_EXISTS",
          `Cannot create directory ${JSON.stringify(virtual)}: it exists`,
        );
      }
      await this.#putMarker(virtual);
      return virtual;
    }
    for (const at of chain) {
      const found = await this.#describe(at);
      if (found?.type === "file") {
        // As on a disk: a file at the name itself exists; one on the way is not a folder.
        throw new BftpError(
          at === virtual ? "BFTP_ERR_EXISTS" : "BFTP_ERR_NOT_A_DIRECTORY",
          `Cannot create directory ${JSON.stringify(virtual)}: ${JSON.stringify(at)} is a file`,
        );
      }
      if (found === undefined) await this.#putMarker(at);
    }
    return virtual;
  }

  async #putMarker(virtual: string): Promise<void> {
    const { sdk, client, bucket } = this.store;
    await client
      .send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: this.folderPrefix(virtual),
          Body: Buffer.alloc(0),
          ContentLength: 0,
        }),
      )
      .catch((err: unknown) => {
        throw s3Error(err, "create directory", virtual);
      });
  }

  async removeFolder(cwd: string, input: string): Promise<void> {
    const virtual = this.normalize(cwd, input);
    if (virtual === "/")
      throw new BftpError("BFTP_ERR_PATH_REFUSED", "Cannot remove the root directory");
    const prefix = this.folderPrefix(virtual);
    const { sdk, client, bucket } = this.store;
    let keys: string[];
    try {
      const page = await client.send(
        new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 2 }),
      );
      keys = (page.Contents ?? []).map((c) => c.Key ?? "");
    } catch (err) {
      throw s3Error(err, "remove directory", virtual);
    }
    if (keys.length === 0) {
      if ((await this.object(virtual)) !== undefined) {
        throw new BftpError(
          "BFTP_ERR_NOT_A_DIRECTORY",
          `Cannot remove directory ${JSON.stringify(virtual)}: not a directory`,
        );
      }
      throw notFound("remove directory", virtual);
    }
    if (keys.some((k) => k !== prefix)) {
      throw new BftpError(
        "BFTP_ERR_NOT_EMPTY",
        `Cannot remove directory ${JSON.stringify(virtual)}: it is not empty`,
      );
    }
    await client
      .send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: prefix }))
      .catch((err: unknown) => {
        throw s3Error(err, "remove directory", virtual);
      });
    await this.#keepParent(virtual);
  }

  /**
   * A folder exists while something lies under it: removing its last entry would make its
   * parent vanish too, which a disk would not do. So its parent gets a marker first.
   */
  async #keepParent(virtual: string): Promise<void> {
    const parent = path.posix.dirname(virtual);
    if (parent === "/") return;
    const { sdk, client, bucket } = this.store;
    const marker = this.folderPrefix(parent);
    const has = await client
      .send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: marker }))
      .then(() => true)
      .catch(() => false);
    if (!has) await this.#putMarker(parent);
  }

  async removeFile(cwd: string, input: string): Promise<void> {
    const virtual = this.normalize(cwd, input);
    if (virtual === "/")
      throw new BftpError("BFTP_ERR_IS_A_DIRECTORY", 'Cannot delete "/": it is a directory');
    const found = await this.object(virtual);
    if (found === undefined) {
      if (await this.#isFolder(virtual)) {
        throw new BftpError(
          "BFTP_ERR_IS_A_DIRECTORY",
          `Cannot delete ${JSON.stringify(virtual)}: it is a directory (use RMDIR)`,
        );
      }
      throw notFound("delete", virtual);
    }
    await this.#keepParent(virtual);
    await this.#deleteObject(found.key, virtual, "delete");
  }

  async #deleteObject(key: string, virtual: string, verb: string): Promise<void> {
    const { sdk, client, bucket } = this.store;
    await client
      .send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }))
      .catch((err: unknown) => {
        throw s3Error(err, verb, virtual);
      });
    await client
      .send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: metaKey(this.store, key) }))
      .catch(() => undefined);
  }

  async rename(
    cwd: string,
    fromInput: string,
    toInput: string,
    options: { overwrite: boolean },
  ): Promise<string> {
    const from = this.normalize(cwd, fromInput);
    const to = this.normalize(cwd, toInput);
    if (from === "/" || to === "/") {
      throw new BftpError("BFTP_ERR_PATH_REFUSED", "Cannot rename the root directory");
    }
    const source = await this.object(from);
    if (source === undefined) {
      if (await this.#isFolder(from)) {
        throw notSupported("rename", from, "an object store cannot move a folder in one step");
      }
      throw notFound("rename", from);
    }
    if (from === to) return to;
    await this.refuseTarget(to, options.overwrite);
    if (source.entry.size > MAX_COPY) {
      throw notSupported("rename", from, "an object over 5 GiB cannot be copied in one request");
    }
    const { sdk, client, bucket } = this.store;
    try {
      await client.send(
        new sdk.CopyObjectCommand({
          Bucket: bucket,
          Key: this.keyOf(to),
          CopySource: copySource(bucket, source.key),
          CopySourceIfMatch: source.etag,
        }),
      );
    } catch (err) {
      throw s3Error(err, "rename", from);
    }
    await this.#keepParent(from);
    await this.#deleteObject(source.key, from, "rename");
    return to;
  }

  async setTimes(cwd: string, input: string, _atime: number, mtime: number): Promise<void> {
    const virtual = this.normalize(cwd, input);
    await this.#restamp(virtual, { mtime: mtime * 1000 });
  }

  async setMode(cwd: string, input: string, mode: number): Promise<void> {
    const virtual = this.normalize(cwd, input);
    await this.#restamp(virtual, { mode: mode & 0o777 });
  }

  /** Records new metadata on an object: a copy onto itself (S3 cannot change it in place). */
  async #restamp(virtual: string, change: ObjectMeta): Promise<void> {
    const found = await this.object(virtual);
    if (found === undefined) {
      if (await this.#isFolder(virtual)) return; // a folder has no times or modes of its own here
      throw notFound("set the attributes of", virtual);
    }
    await this.restampObject(found, change);
  }

  async restampObject(found: StoredObject, change: ObjectMeta): Promise<void> {
    const meta: ObjectMeta = {
      ...(found.entry.mtime > 0 ? { mtime: found.entry.mtime } : {}),
      mode: found.entry.mode,
      ...change,
    };
    if (found.entry.size > MAX_COPY) {
      throw notSupported(
        "set the attributes of",
        found.entry.path,
        "an object over 5 GiB cannot be copied in one request",
      );
    }
    const { sdk, client, bucket } = this.store;
    await client
      .send(
        new sdk.CopyObjectCommand({
          Bucket: bucket,
          Key: found.key,
          CopySource: copySource(bucket, found.key),
          CopySourceIfMatch: found.etag,
          MetadataDirective: "REPLACE",
          Metadata: metadataOf(meta),
        }),
      )
      .catch((err: unknown) => {
        throw s3Error(err, "set the attributes of", found.entry.path);
      });
  }
}

/** The x-amz-copy-source of a key: each segment URL-encoded. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

function fileEntry(virtual: string, head: HeadObjectCommandOutput): StoredEntry {
  const meta = metaOf(head.Metadata);
  const mtime = meta.mtime ?? head.LastModified?.getTime() ?? 0;
  return {
    name: path.posix.basename(virtual),
    type: "file",
    size: head.ContentLength ?? 0,
    mtime,
    path: virtual,
    mode: 0o100000 | (meta.mode ?? 0o644),
    uid: 0,
    gid: 0,
    atime: mtime,
  };
}

function folderEntry(virtual: string): StoredEntry {
  return {
    name: path.posix.basename(virtual) || "/",
    type: "dir",
    size: 0,
    mtime: 0,
    path: virtual,
    mode: 0o040755,
    uid: 0,
    gid: 0,
    atime: 0,
  };
}

/** A version string for an object (GET's `ifVersion`, HASH's `version`): from its ETag. */
export function objectVersion(found: StoredObject): string {
  return createHash("sha256")
    .update(`${found.etag}:${found.entry.size}:${found.entry.mtime}`)
    .digest("hex")
    .slice(0, 16);
}

function notFound(verb: string, virtual: string): BftpError {
  return new BftpError(
    "BFTP_ERR_NOT_FOUND",
    `Cannot ${verb} ${JSON.stringify(virtual)}: not found`,
  );
}

function notSupported(verb: string, virtual: string, why: string): BftpError {
  return new BftpError(
    "BFTP_ERR_NOT_SUPPORTED",
    `Cannot ${verb} ${JSON.stringify(virtual)}: ${why}`,
  );
}

/** A folder listed a ListObjectsV2 page at a time (folders first from each page's prefixes). */
class S3Folder implements FolderReader {
  readonly path: string;
  readonly #storage: S3Storage;
  readonly #prefix: string;
  #token: string | undefined;
  #more = true;
  #queue: (string | { name: string; key: string })[] = [];

  constructor(storage: S3Storage, virtual: string) {
    this.#storage = storage;
    this.path = virtual;
    this.#prefix = storage.folderPrefix(virtual);
  }

  async next(max: number): Promise<StoredEntry[]> {
    while (this.#queue.length === 0 && this.#more) await this.#page();
    const batch = this.#queue.splice(0, Math.min(max, HEAD_GROUP));
    const described = await Promise.all(
      batch.map(async (item) => {
        if (typeof item === "string") return folderEntry(path.posix.join(this.path, item));
        const found = await this.#storage.object(path.posix.join(this.path, item.name));
        return found?.entry; // removed meanwhile: left out
      }),
    );
    return described.filter((e): e is StoredEntry => e !== undefined);
  }

  async #page(): Promise<void> {
    const { sdk, client, bucket } = this.#storage.store;
    let page;
    try {
      page = await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: bucket,
          Prefix: this.#prefix,
          Delimiter: "/",
          ContinuationToken: this.#token,
          MaxKeys: 1000,
        }),
      );
    } catch (err) {
      throw s3Error(err, "list", this.path);
    }
    for (const common of page.CommonPrefixes ?? []) {
      const name = (common.Prefix ?? "").slice(this.#prefix.length, -1);
      if (visible(name)) this.#queue.push(name);
    }
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? "";
      const name = key.slice(this.#prefix.length);
      if (visible(name)) this.#queue.push({ name, key });
    }
    this.#token = page.NextContinuationToken;
    this.#more = page.IsTruncated === true && this.#token !== undefined;
  }

  close(): Promise<void> {
    this.#queue = [];
    this.#more = false;
    return Promise.resolve();
  }
}

/** A name a listing shows: not the folder's own marker, not bftp's records, not a bad name. */
function visible(name: string): boolean {
  if (name === "" || name.includes("/") || name === "." || name === "..") return false;
  if (name.startsWith(TEMP_PREFIX)) return false;
  try {
    return normalizeVirtual("/", name) === `/${name}`;
  } catch {
    return false; // a key no bftp path can name (a control character, a backslash)
  }
}

/**
 * An object being read: one ranged GetObject streamed in order, opened again at a new
 * position when a read jumps (SFTP clients may). Every request names the ETag seen when it
 * was opened (If-Match), so bytes of two versions are never mixed: a replaced object fails
 * the read with `BFTP_ERR_FILE_CHANGED`.
 */
export class S3ReadHandle implements ReadHandle {
  readonly path: string;
  readonly found: StoredObject;
  readonly #store: S3Store;
  #cursor: BodyCursor | undefined;

  constructor(store: S3Store, found: StoredObject) {
    this.#store = store;
    this.found = found;
    this.path = found.entry.path;
  }

  /**
   * Reads in the order they were asked: SFTP's read-ahead asks for several ranges at once, and
   * in order they continue one GetObject instead of each reopening it.
   */
  read(buffer: Buffer, position: number, length = buffer.length): Promise<number> {
    const turn = this.#queue.then(() => this.#read(buffer, position, length));
    this.#queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  #queue: Promise<void> = Promise.resolve();

  async #read(buffer: Buffer, position: number, length: number): Promise<number> {
    const size = this.found.entry.size;
    if (position >= size || length === 0) return 0;
    if (this.#cursor?.position !== position) {
      this.#cursor?.close();
      this.#cursor = undefined;
      const { sdk, client, bucket } = this.#store;
      try {
        const answer = await client.send(
          new sdk.GetObjectCommand({
            Bucket: bucket,
            Key: this.found.key,
            Range: `bytes=${position}-${size - 1}`,
            IfMatch: this.found.etag === "" ? undefined : this.found.etag,
          }),
        );
        this.#cursor = new BodyCursor(answer.Body as Readable, position, READ_STALL_MS);
      } catch (err) {
        throw s3Error(err, "read", this.path);
      }
    }
    try {
      return await this.#cursor.read(buffer, 0, Math.min(length, size - position));
    } catch (err) {
      this.#cursor.close();
      this.#cursor = undefined;
      throw s3Error(err, "read", this.path);
    }
  }

  stat(): Promise<StoredEntry> {
    return Promise.resolve(this.found.entry);
  }

  close(): Promise<void> {
    this.#cursor?.close();
    this.#cursor = undefined;
    return Promise.resolve();
  }
}

/**
 * An upload into the store (SFTP's, and BFTP's PUT through `writer`): bytes must come in
 * order (out-of-order writes within a window are held; SFTP clients pipeline writes in
 * order), the unsent tail may be rewritten or cut; `commit` completes the multipart upload
 * (the object appears whole), records its SHA-256, and applies times set after the upload
 * began; `abort` drops it.
 */
export class S3Upload implements UploadHandle {
  readonly path: string;
  readonly writer: PartWriter;
  readonly #sink: MultipartSink;
  readonly #storage: S3Storage;
  readonly #overwrite: boolean;
  readonly #meta: ObjectMeta = {};
  readonly #early = new Map<number, Buffer>();
  #earlyBytes = 0;

  /**
   * Bytes of the file there before that the client has neither written over nor cut away
   * (opened without truncation): an object store cannot keep them, so commit refuses while
   * any remain.
   */
  #kept: number;

  constructor(storage: S3Storage, virtual: string, overwrite: boolean, partSize: number, kept = 0) {
    this.#kept = kept;
    this.#storage = storage;
    this.path = virtual;
    this.#overwrite = overwrite;
    this.#sink = new MultipartSink(storage.store, storage.keyOf(virtual), () => ({
      ...this.#meta,
    }));
    this.writer = new PartWriter(this.#sink, virtual, { partSize });
  }

  async write(data: Buffer, position: number): Promise<void> {
    const end = this.writer.size;
    if (position < end) {
      this.writer.overwrite(data, position);
      return;
    }
    if (position > end) {
      // Held until the bytes before it arrive: at most 16 MiB.
      if (this.#earlyBytes + data.length > 16 * 1024 * 1024) {
        throw new BftpError(
          "BFTP_ERR_NOT_SUPPORTED",
          `Cannot write ${JSON.stringify(this.path)} out of order: an object store takes an upload's bytes in order`,
        );
      }
      this.#early.set(position, Buffer.from(data));
      this.#earlyBytes += data.length;
      return;
    }
    await this.writer.append(data);
    for (
      let next = this.#early.get(this.writer.size);
      next !== undefined;
      next = this.#early.get(this.writer.size)
    ) {
      this.#early.delete(this.writer.size);
      this.#earlyBytes -= next.length;
      await this.writer.append(next);
    }
  }

  truncate(size: number): Promise<void> {
    this.#kept = Math.min(this.#kept, size); // old bytes past the cut are no longer needed
    if (size === this.writer.size) return Promise.resolve();
    if (size > this.writer.size && this.#kept > this.writer.size) {
      return Promise.reject(this.#needsOldBytes());
    }
    if (size > this.writer.size)
      return this.write(Buffer.alloc(size - this.writer.size), this.writer.size);
    this.writer.truncate(size);
    return Promise.resolve();
  }

  stat(): Promise<StoredEntry> {
    const mtime = this.#meta.mtime ?? Date.now();
    return Promise.resolve({
      name: path.posix.basename(this.path),
      type: "file",
      size: Math.max(this.writer.size, this.#kept),
      mtime,
      path: this.path,
      mode: 0o100000 | (this.#meta.mode ?? 0o644),
      uid: 0,
      gid: 0,
      atime: mtime,
    });
  }

  setTimes(_atime: number, mtime: number): void {
    // Seconds, maybe fractional (BFTP's ms / 1000): rounded back to the exact ms.
    this.#meta.mtime = Math.round(mtime * 1000);
  }

  setMode(mode: number): void {
    this.#meta.mode = mode & 0o777;
  }

  #needsOldBytes(): BftpError {
    return new BftpError(
      "BFTP_ERR_NOT_SUPPORTED",
      `Cannot keep part of ${JSON.stringify(this.path)}: an object store replaces whole objects; write the whole file (or open it with truncation)`,
    );
  }

  async commit(): Promise<void> {
    if (this.writer.size < this.#kept) throw this.#needsOldBytes();
    if (this.#early.size > 0) {
      throw new BftpError(
        "BFTP_ERR_SIZE_MISMATCH",
        `Cannot commit ${JSON.stringify(this.path)}: bytes before offset ${Math.min(...this.#early.keys())} never arrived`,
      );
    }
    // Checked again at the end (there is no atomic create-if-absent on S3: docs/scale-out.md).
    await this.#storage.stillFree(this.path, this.#overwrite);
    const finished = await this.writer.finish();
    const { sha256 } = finished;
    let { etag } = finished;
    const key = this.#storage.keyOf(this.path);
    const sent = this.#sink.sentMeta ?? {};
    if (sent.mtime !== this.#meta.mtime || sent.mode !== this.#meta.mode) {
      // Times (SFTP's FSETSTAT) arrived after the object was begun: recorded by a copy.
      const found = await this.#storage.object(this.path);
      if (found !== undefined)
        await this.#storage.restampObject(found, this.#meta).catch(() => undefined);
      etag = undefined; // the copy is a new version
    }
    if (sha256 !== undefined) await this.#storage.recordHash(key, sha256, etag);
  }

  async abort(): Promise<void> {
    this.#early.clear();
    await this.writer.abort();
  }
}
