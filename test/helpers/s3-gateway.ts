import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";

// This SDK release warns on every start that later ones will need Node 22 (the server turns
// the warning off the same way, src/server/storage/s3-store.ts): the lockfile pins it.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

/** scripts/s3-gateway.sh, from dist/test/helpers (tests run compiled, from dist/test). */
const GATEWAY_SCRIPT = fileURLToPath(new URL("../../../scripts/s3-gateway.sh", import.meta.url));

/** Where a real S3 store (Ceph's RADOS Gateway) listens, and the keys of its one user. */
export interface S3Gateway {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

let gateway: Promise<S3Gateway> | undefined;
/** The folder of the gateway this process started itself, if it did; stop takes it. */
let ownGatewayDir: string | undefined;

/**
 * The S3 gateway for this test process: the one scripts/run-tests.sh started for the whole run
 * (BFTP_TEST_S3_ENDPOINT and friends), or else one this process starts once with
 * scripts/s3-gateway.sh and stops when it exits, so a test file run alone works
 * (`node --test dist/test/storage/s3-gateway.test.js`). Rejects, never skips, when there is
 * none: the S3 tests then fail and say why.
 *
 * @example
 * const client = s3Client(await s3Gateway());
 */
export function s3Gateway(): Promise<S3Gateway> {
  gateway ??= findOrStartGateway();
  return gateway;
}

/** Stops the gateway this process started (none started: nothing to do). */
export async function stopS3Gateway(): Promise<void> {
  const dir = ownGatewayDir;
  if (dir === undefined) return;
  ownGatewayDir = undefined;
  gateway = undefined;
  process.off("exit", stopOwnGatewayAtExit);
  await promisify(execFile)("bash", [GATEWAY_SCRIPT, "stop", dir]);
}

async function findOrStartGateway(): Promise<S3Gateway> {
  const env = process.env;
  const unavailable = env["BFTP_TEST_S3_UNAVAILABLE"];
  if (unavailable !== undefined) throw new Error(`No S3 gateway for the tests: ${unavailable}`);
  const endpoint = env["BFTP_TEST_S3_ENDPOINT"];
  if (endpoint !== undefined) {
    const accessKeyId = env["BFTP_TEST_S3_ACCESS_KEY"];
    const secretAccessKey = env["BFTP_TEST_S3_SECRET_KEY"];
    if (accessKeyId === undefined || secretAccessKey === undefined) {
      throw new Error(
        "BFTP_TEST_S3_ENDPOINT is set without BFTP_TEST_S3_ACCESS_KEY and _SECRET_KEY",
      );
    }
    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      region: env["BFTP_TEST_S3_REGION"] ?? "us-east-1",
    };
  }
  return startOwnGateway();
}

async function startOwnGateway(): Promise<S3Gateway> {
  let stdout: string;
  try {
    // OWNER_PID: the script's watchdog stops the daemons if this process dies without its
    // 'exit' hook running (SIGKILL, a crash in native code).
    ({ stdout } = await promisify(execFile)("bash", [GATEWAY_SCRIPT, "start"], {
      env: { ...process.env, OWNER_PID: String(process.pid) },
    }));
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(
      `scripts/s3-gateway.sh start failed:\n${typeof stderr === "string" ? stderr : String(error)}`,
      { cause: error },
    );
  }
  const values = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const equals = line.indexOf("=");
    if (equals > 0) values.set(line.slice(0, equals), line.slice(equals + 1));
  }
  const dir = values.get("CEPH_S3_DIR");
  if (dir !== undefined) {
    ownGatewayDir = dir;
    process.once("exit", stopOwnGatewayAtExit);
  }
  const endpoint = values.get("S3_ENDPOINT");
  const accessKeyId = values.get("S3_ACCESS_KEY");
  const secretAccessKey = values.get("S3_SECRET_KEY");
  if (endpoint === undefined || accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error(`scripts/s3-gateway.sh start printed no endpoint or keys:\n${stdout}`);
  }
  return { endpoint, accessKeyId, secretAccessKey, region: values.get("S3_REGION") ?? "us-east-1" };
}

/** An 'exit' listener may only do synchronous work, so the stop runs with execFileSync. */
function stopOwnGatewayAtExit(): void {
  if (ownGatewayDir === undefined) return;
  try {
    execFileSync("bash", [GATEWAY_SCRIPT, "stop", ownGatewayDir], { stdio: "ignore" });
  } catch {
    // The watchdog (OWNER_PID) stops the daemons a second after this process is gone.
  }
}

/**
 * An S3 client for `gw` with the settings Ceph Pacific's RGW needs: path-style addresses (no
 * DNS for virtual hosts), and checksums only where the API requires them (with the SDK's
 * default, a PutObject with a stream body goes out aws-chunked, which RGW refuses with 411).
 */
export function s3Client(gw: S3Gateway): S3Client {
  return new S3Client({
    endpoint: gw.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
  });
}

/**
 * Creates a bucket no other test uses and returns its name: `prefix` made a valid S3 name
 * (lowercase letters, digits and hyphens, 3–63 characters, a letter or digit at each end),
 * then the time and random hex.
 */
export async function freshBucket(client: S3Client, prefix: string): Promise<string> {
  const stem =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/gu, "-")
      .slice(0, 40)
      .replace(/^-+|-+$/gu, "") || "bftp";
  const bucket = `${stem}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Deletes every object in `bucket`, aborts its unfinished multipart uploads, deletes it. */
export async function emptyAndDeleteBucket(client: S3Client, bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    const objects = (page.Contents ?? []).flatMap((o) =>
      o.Key === undefined ? [] : [{ Key: o.Key }],
    );
    if (objects.length > 0) {
      await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
      );
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) {
      await client.send(
        new AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: upload.Key,
          UploadId: upload.UploadId,
        }),
      );
    }
    const more = page.IsTruncated === true;
    keyMarker = more ? page.NextKeyMarker : undefined;
    uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
  } while (keyMarker !== undefined);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * Points the standard AWS variables at `gw` (the SDK chain of every bftp server this process
 * starts, in it or as a child, reads them) and returns a client for it.
 */
export function useGateway(gw: S3Gateway): S3Client {
  process.env["AWS_ACCESS_KEY_ID"] = gw.accessKeyId;
  process.env["AWS_SECRET_ACCESS_KEY"] = gw.secretAccessKey;
  process.env["AWS_REGION"] = gw.region;
  return s3Client(gw);
}
