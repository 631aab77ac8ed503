import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { versionOf } from "../../src/server/file-version.js";
import { objectVersion, type StoredObject } from "../../src/server/storage/s3-storage.js";
import { metaOf } from "../../src/server/storage/s3-upload.js";
import {
  emptyAndDeleteBucket,
  freshBucket,
  useGateway,
  s3Gateway,
  type S3Gateway,
} from "./s3-gateway.js";

/** Which storage a test server serves: its root folder, or an S3 bucket (issue 15). */
export type TestBackend = "disk" | "s3";

/**
 * The backend the test servers use: S3 when BFTP_TEST_BACKEND=s3 (test/server/s3-sessions.test.ts
 * and test/server/sftp/s3-sftp.test.ts run command tests that way), else the disk.
 */
export function testBackend(): TestBackend {
  return process.env["BFTP_TEST_BACKEND"] === "s3" ? "s3" : "disk";
}

/**
 * The files a test server serves, backend-neutral: what tests use to arrange fixtures and to
 * check results, so one test runs against the disk and the object store alike. Paths are
 * relative to the served root ("a/b.txt"); "" is the root. A read of a missing file rejects
 * with `code: "ENOENT"` on both backends.
 */
export interface TestFiles {
  readonly backend: TestBackend;
  write(rel: string, data: string | Uint8Array): Promise<void>;
  read(rel: string): Promise<Buffer>;
  /** The file's content as UTF-8. */
  text(rel: string): Promise<string>;
  /** Whether anything (a file, a folder, on disk a link) is at `rel`. */
  exists(rel: string): Promise<boolean>;
  isFile(rel: string): Promise<boolean>;
  isDir(rel: string): Promise<boolean>;
  /** Makes a folder and its parents (on S3: a zero-byte marker object "rel/"). */
  mkdir(rel: string): Promise<void>;
  /** The names in a folder, sorted (on S3 the store's own reserved areas left out). */
  list(rel?: string): Promise<string[]>;
  /** Removes a file, or a folder with everything in it; nothing there is no error. */
  remove(rel: string): Promise<void>;
  size(rel: string): Promise<number>;
  /** Modification time in whole ms, as STAT and GET report it. */
  mtime(rel: string): Promise<number>;
  /** Sets the modification time (ms). */
  setMtime(rel: string, ms: number): Promise<void>;
  /** The file's version token, as GET and HASH report it (PROTOCOL.md §8.7). */
  version(rel: string): Promise<string>;
  /**
   * What interrupted or refused uploads may have left in the served tree: on disk the
   * reserved `.bftp-` names under the root; on S3 the unfinished multipart uploads under the
   * prefix and the objects of kept partial uploads.
   */
  leftovers(): Promise<string[]>;
  /**
   * Uploads in progress: on disk the files in the server's staging folder; on S3 the
   * unfinished multipart uploads under the prefix.
   */
  staged(): Promise<string[]>;
}

/** The served tree as files on a disk, under `root` (the test's own staging folder beside). */
export function diskFiles(root: string, staging: string): TestFiles {
  const real = (rel: string): string => path.join(root, rel);
  const files: TestFiles = {
    backend: "disk",
    write: (rel, data) => fs.writeFile(real(rel), data),
    read: (rel) => fs.readFile(real(rel)),
    text: (rel) => fs.readFile(real(rel), "utf8"),
    exists: (rel) =>
      fs.lstat(real(rel)).then(
        () => true,
        () => false,
      ),
    isFile: (rel) =>
      fs.stat(real(rel)).then(
        (s) => s.isFile(),
        () => false,
      ),
    isDir: (rel) =>
      fs.stat(real(rel)).then(
        (s) => s.isDirectory(),
        () => false,
      ),
    mkdir: async (rel) => {
      await fs.mkdir(real(rel), { recursive: true });
    },
    list: async (rel = "") => (await fs.readdir(real(rel))).sort(),
    remove: (rel) => fs.rm(real(rel), { recursive: true, force: true }),
    size: async (rel) => (await fs.stat(real(rel))).size,
    mtime: async (rel) => Math.trunc((await fs.stat(real(rel))).mtimeMs),
    setMtime: (rel, ms) => fs.utimes(real(rel), ms / 1000, ms / 1000),
    version: async (rel) => versionOf(await fs.stat(real(rel), { bigint: true })),
    leftovers: async () => {
      const names = await fs.readdir(root, { recursive: true });
      return names.filter((name) => path.basename(name).startsWith(".bftp-"));
    },
    staged: () => {
      try {
        return Promise.resolve(readdirSync(staging));
      } catch {
        return Promise.resolve([]);
      }
    },
  };
  return files;
}

/** The reserved areas S3Store keeps under the served prefix (s3-store.ts `reserved`). */
const RESERVED = [".bftp-meta", ".bftp-partials"];

/**
 * The served tree as objects under `prefix` ("" or ending with "/") in `bucket`, through the
 * SDK directly (not through the server's S3Storage), the way `aws s3` would see it.
 */
export function s3Files(client: S3Client, bucket: string, prefix: string): TestFiles {
  const keyOf = (rel: string): string => `${prefix}${rel.replace(/^\/+|\/+$/gu, "")}`;
  const folderOf = (rel: string): string => {
    const key = keyOf(rel);
    return key === prefix ? prefix : `${key}/`;
  };

  async function head(rel: string) {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(rel) }));
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        return undefined;
      }
      throw err;
    }
  }

  async function mustHead(rel: string) {
    const found = await head(rel);
    if (found === undefined) throw missing(rel);
    return found;
  }

  async function anyUnder(rel: string): Promise<boolean> {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: folderOf(rel), MaxKeys: 1 }),
    );
    return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
  }

  async function keysUnder(keyPrefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  async function multipartUploads(): Promise<string[]> {
    const found: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) found.push(`multipart:${upload.Key ?? ""}`);
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      idMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return found;
  }

  async function mtimeOf(rel: string): Promise<number> {
    const found = await mustHead(rel);
    return metaOf(found.Metadata).mtime ?? found.LastModified?.getTime() ?? 0;
  }

  const files: TestFiles = {
    backend: "s3",
    write: async (rel, data) => {
      const body = typeof data === "string" ? Buffer.from(data) : data;
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(rel),
          Body: body,
          ContentLength: body.length,
        }),
      );
    },
    read: async (rel) => {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(rel) }));
        return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) throw missing(rel);
        throw err;
      }
    },
    text: async (rel) => (await files.read(rel)).toString("utf8"),
    exists: async (rel) => (await head(rel)) !== undefined || (await anyUnder(rel)),
    isFile: async (rel) => (await head(rel)) !== undefined,
    isDir: async (rel) => {
      if (keyOf(rel) === prefix) return true;
      return (await head(rel)) === undefined && (await anyUnder(rel));
    },
    mkdir: async (rel) => {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: folderOf(rel),
          Body: Buffer.alloc(0),
          ContentLength: 0,
        }),
      );
    },
    list: async (rel = "") => {
      const under = folderOf(rel);
      const names = new Set<string>();
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: under,
            Delimiter: "/",
            ContinuationToken: token,
          }),
        );
        for (const common of page.CommonPrefixes ?? []) {
          names.add((common.Prefix ?? "").slice(under.length, -1));
        }
        for (const object of page.Contents ?? []) names.add((object.Key ?? "").slice(under.length));
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      names.delete(""); // the folder's own marker
      if (under === prefix) for (const name of RESERVED) names.delete(name);
      return [...names].sort();
    },
    remove: async (rel) => {
      const keys = [keyOf(rel), ...(await keysUnder(folderOf(rel)))];
      for (let at = 0; at < keys.length; at += 1000) {
        await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: keys.slice(at, at + 1000).map((Key) => ({ Key })), Quiet: true },
          }),
        );
      }
    },
    size: async (rel) => (await mustHead(rel)).ContentLength ?? 0,
    mtime: mtimeOf,
    setMtime: async (rel, ms) => {
      const key = keyOf(rel);
      const found = await mustHead(rel);
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
          MetadataDirective: "REPLACE",
          Metadata: { ...found.Metadata, "bftp-mtime": String(Math.trunc(ms)) },
        }),
      );
    },
    version: async (rel) => {
      const found = await mustHead(rel);
      const meta = metaOf(found.Metadata);
      const stored = {
        key: keyOf(rel),
        etag: found.ETag ?? "",
        entry: {
          size: found.ContentLength ?? 0,
          mtime: meta.mtime ?? found.LastModified?.getTime() ?? 0,
        },
      } as StoredObject;
      return objectVersion(stored);
    },
    leftovers: async () => [
      ...(await multipartUploads()),
      ...(await keysUnder(`${prefix}.bftp-partials/`)),
    ],
    staged: multipartUploads,
  };
  return files;
}

function missing(rel: string): Error {
  return Object.assign(new Error(`ENOENT: no such object, ${rel}`), { code: "ENOENT" });
}

/** A fresh bucket for one test server: the server's `s3` option, its files, and its removal. */
export interface S3Backing {
  readonly gateway: S3Gateway;
  readonly client: S3Client;
  readonly bucket: string;
  /** The served prefix, "files/". */
  readonly prefix: string;
  readonly url: string;
  readonly files: TestFiles;
  /** Empties and deletes the bucket. */
  readonly remove: () => Promise<void>;
}

/**
 * Makes a fresh bucket on the test gateway (s3-gateway.ts) and sets the AWS_* variables the
 * server's SDK reads its credentials from. The server serves `s3://BUCKET/files`.
 */
export async function s3Backing(label = "bftp-test"): Promise<S3Backing> {
  const gateway = await s3Gateway();
  // As S3Store.open does: this SDK release warns on stderr that later ones need Node 22.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const client = useGateway(gateway);
  const bucket = await freshBucket(client, label);
  const prefix = "files/";
  return {
    gateway,
    client,
    bucket,
    prefix,
    url: `s3://${bucket}/files`,
    files: s3Files(client, bucket, prefix),
    remove: async () => {
      try {
        await emptyAndDeleteBucket(client, bucket);
      } finally {
        client.destroy();
      }
    },
  };
}
