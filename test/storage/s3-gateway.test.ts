// The S3 test harness against the real gateway (issue 15): the operations an S3 storage
// backend relies on behave as S3 says on the RADOS Gateway scripts/s3-gateway.sh starts, so a
// failing backend test points at the backend, not at the store.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { emptyAndDeleteBucket, freshBucket, s3Client, s3Gateway } from "../helpers/s3-gateway.js";

const MiB = 1024 * 1024;

let client: S3Client;
let clientMade = false;
let bucket = "";

before(async () => {
  client = s3Client(await s3Gateway());
  clientMade = true;
  bucket = await freshBucket(client, "s3-gateway");
});

after(async () => {
  // before() may have failed part way: clean up what it made; its error is the report.
  if (bucket !== "") await emptyAndDeleteBucket(client, bucket);
  if (clientMade) client.destroy();
});

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function getBytes(key: string): Promise<Uint8Array> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  assert.ok(response.Body !== undefined);
  return response.Body.transformToByteArray();
}

test("PutObject then GetObject returns the same bytes", async () => {
  const bytes = randomBytes(256 * 1024 + 7);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: "round-trip.bin", Body: bytes }));
  const back = await getBytes("round-trip.bin");
  assert.equal(back.byteLength, bytes.byteLength);
  assert.equal(sha256(back), sha256(bytes));
});

test("ListObjectsV2 with a prefix and delimiter '/' gives keys and common prefixes", async () => {
  for (const key of [
    "tree/a.txt",
    "tree/b.txt",
    "tree/sub/c.txt",
    "tree/sub2/d.txt",
    "other.txt",
  ]) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  }
  const listing = await client.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: "tree/", Delimiter: "/" }),
  );
  assert.deepEqual(
    (listing.Contents ?? []).map((o) => o.Key),
    ["tree/a.txt", "tree/b.txt"],
  );
  assert.deepEqual(
    (listing.CommonPrefixes ?? []).map((p) => p.Prefix),
    ["tree/sub/", "tree/sub2/"],
  );
  assert.equal(listing.KeyCount, 4);
  assert.equal(listing.IsTruncated, false);
});

test("a multipart upload of three parts (5 MiB, 5 MiB, 1 MiB + 3) completes whole", async () => {
  const key = "multipart.bin";
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(MiB + 3)];
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  assert.ok(UploadId !== undefined);
  const etags: string[] = [];
  for (const [index, body] of parts.entries()) {
    const { ETag } = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: index + 1,
        Body: body,
      }),
    );
    assert.ok(ETag !== undefined);
    etags.push(ETag);
  }

  const listed = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
  assert.deepEqual(
    (listed.Parts ?? []).map((p) => [p.PartNumber, p.Size, p.ETag]),
    parts.map((body, index) => [index + 1, body.byteLength, etags[index]]),
  );

  // The Complete answer's ETag is empty on this RGW (a known bug, /work/shared/s3/README.md
  // gotcha 5), so the checks below are on HEAD and GET.
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
    }),
  );
  const total = parts.reduce((sum, body) => sum + body.byteLength, 0);
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  assert.equal(head.ContentLength, total);
  assert.match(head.ETag ?? "", /^"[0-9a-f]{32}-3"$/u);
  const whole = createHash("sha256");
  for (const body of parts) whole.update(body);
  assert.equal(sha256(await getBytes(key)), whole.digest("hex"));
});

test("AbortMultipartUpload leaves no upload in ListMultipartUploads", async () => {
  const key = "aborted.bin";
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  assert.ok(UploadId !== undefined);
  await client.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      PartNumber: 1,
      Body: randomBytes(MiB),
    }),
  );
  const during = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.deepEqual(
    (during.Uploads ?? []).map((u) => [u.Key, u.UploadId]),
    [[key, UploadId]],
  );

  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
  const afterAbort = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.deepEqual(afterAbort.Uploads ?? [], []);
  await assert.rejects(
    client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    (error: unknown) =>
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404,
  );
});

test("a ranged GetObject (bytes=10-19) returns those 10 bytes", async () => {
  const bytes = randomBytes(1000);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: "ranged.bin", Body: bytes }));
  const response = await client.send(
    new GetObjectCommand({ Bucket: bucket, Key: "ranged.bin", Range: "bytes=10-19" }),
  );
  assert.equal(response.$metadata.httpStatusCode, 206);
  assert.equal(response.ContentLength, 10);
  assert.equal(response.ContentRange, `bytes 10-19/${bytes.byteLength}`);
  assert.ok(response.Body !== undefined);
  assert.deepEqual(Buffer.from(await response.Body.transformToByteArray()), bytes.subarray(10, 20));
});
