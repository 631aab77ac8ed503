// Issue 15, item 1: "abandoned uploads are aborted after the same expiry as local partials".
// S3Store.sweep, against the real gateway: a multipart upload a dead server left and the
// objects of a partial nobody resumed are removed once older than the expiry, and not before;
// objects outside bftp's reserved prefix are never touched.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { S3Store } from "../../src/server/storage/s3-store.js";
import { emptyAndDeleteBucket, freshBucket, useGateway, s3Gateway } from "../helpers/s3-gateway.js";

let s3: S3Client;
let bucket: string;
let store: S3Store;

before(async () => {
  const gateway = await s3Gateway();
  s3 = useGateway(gateway);
  bucket = await freshBucket(s3, "sweep");
  store = await S3Store.open({
    url: `s3://${bucket}/served`,
    endpoint: gateway.endpoint,
    partialExpiryMs: 60_000,
  });
});
after(async () => {
  store.close();
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

async function keys(): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => o.Key ?? "").sort();
}

async function uploads(): Promise<string[]> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (page.Uploads ?? []).map((u) => u.Key ?? "").sort();
}

test("the sweep removes abandoned uploads and partials past the expiry, and nothing else", async () => {
  const put = (key: string): Promise<unknown> =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "x", ContentLength: 1 }));
  await put("served/kept.txt");
  await put("outside/.bftp-partials/abc/manifest"); // not under the served prefix
  await put("served/.bftp-partials/abc/manifest");
  await put("served/.bftp-partials/abc/0001-00001");
  await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "served/big.bin" }));
  await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "outside/other.bin" }));

  // Younger than the expiry: nothing goes.
  assert.deepEqual(await store.sweep(Date.now()), { aborted: 0, removed: 0 });
  assert.equal((await keys()).length, 4);

  // Past it (the clock moved two minutes on): the served prefix's leftovers go.
  assert.deepEqual(await store.sweep(Date.now() + 120_000), { aborted: 1, removed: 2 });
  assert.deepEqual(await keys(), ["outside/.bftp-partials/abc/manifest", "served/kept.txt"]);
  assert.deepEqual(await uploads(), ["outside/other.bin"]);
});
