// Issue 15: OpenSSH's own `sftp` and `scp` against `bftp serve s3://... --sftp` over the real
// S3 gateway (Ceph RGW), with an account: the same operations as test/sftp/openssh-clients
// against the disk, the stored bytes checked in the bucket itself.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  scp as scpIn,
  sftpBatch as sftpBatchIn,
  sftpEndpoint,
  type SftpEndpoint,
} from "../helpers/openssh.js";
import { runCli } from "../helpers/run-cli.js";
import { emptyAndDeleteBucket, freshBucket, useGateway, s3Gateway } from "../helpers/s3-gateway.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

let base: string;
let local: string;
let s3: S3Client;
let bucket: string;
let serve: ServeProcess;
let endpoint: SftpEndpoint;

const sha = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

before(async () => {
  const gateway = await s3Gateway();
  s3 = useGateway(gateway);
  bucket = await freshBucket(s3, "openssh");
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-openssh-s3-")));
  const config = path.join(base, "config");
  local = path.join(base, "local");
  await fs.mkdir(local);
  const added = await runCli(["user", "add", "alice", "--config-dir", config], {
    env: { BFTP_PASSWORD: "alice-pw" },
  });
  assert.equal(added.code, 0, added.stderr);
  serve = await spawnServe(`s3://${bucket}/files`, [
    "--s3-endpoint",
    gateway.endpoint,
    "--config-dir",
    config,
    "--login-delay",
    "0.2",
    "--sftp-port",
    "0",
  ]);
  endpoint = await sftpEndpoint(serve, config, base);
});

after(async () => {
  await serve.stop();
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
  await fs.rm(base, { recursive: true, force: true });
});

/** The bytes of the object at `key` under the served prefix, or undefined if there is none. */
async function stored(key: string): Promise<Buffer | undefined> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `files/${key}` }));
    return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
  } catch {
    return undefined;
  }
}

function sftpBatch(lines: readonly string[]) {
  return sftpBatchIn({ endpoint, dir: base, cwd: local }, lines);
}

function scp(args: readonly string[]) {
  return scpIn({ endpoint, dir: base, cwd: local }, args);
}

test("sftp -b on S3: put, mkdir, rename, ls, get and rm of a binary file, byte for byte", async () => {
  const data = randomBytes(12 * 1024 * 1024 + 7); // three parts of 5 MiB
  await fs.writeFile(path.join(local, "up.bin"), data);
  const run = await sftpBatch([
    "put up.bin",
    "mkdir folder",
    "rename up.bin folder/moved.bin",
    "ls -l folder",
    "get folder/moved.bin down.bin",
    "put up.bin gone.bin",
    "rm gone.bin",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /-rw-r--r-- .* moved\.bin/u);
  assert.equal(sha((await stored("folder/moved.bin")) ?? Buffer.alloc(0)), sha(data));
  assert.equal(sha(await fs.readFile(path.join(local, "down.bin"))), sha(data));
  assert.equal(await stored("up.bin"), undefined);
  assert.equal(await stored("gone.bin"), undefined);
});

test("sftp -b on S3: renaming a folder is refused with its code, and the folder stays", async () => {
  const run = await sftpBatch(["mkdir keep", "rename keep other"]);
  assert.notEqual(run.code, 0);
  // SSH_FX_OP_UNSUPPORTED, as OpenSSH's sftp names it (it shows no message text).
  assert.match(run.stderr, /Operation unsupported/u);
  const list = await sftpBatch(["ls -1 /"]);
  assert.match(list.stdout, /^\/keep$/mu);
  assert.doesNotMatch(list.stdout, /^\/other$/mu);
});

test("scp on S3, up and down; scp -p keeps the modification time; copies over one name commit whole", async () => {
  const data = randomBytes(7 * 1024 * 1024 + 3);
  const file = path.join(local, "scp.bin");
  await fs.writeFile(file, data);
  const mtime = new Date("2020-01-02T03:04:05Z");
  await fs.utimes(file, mtime, mtime);
  const up = await scp(["-p", "scp.bin", "alice@127.0.0.1:/scp.bin"]);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(sha((await stored("scp.bin")) ?? Buffer.alloc(0)), sha(data));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "files/scp.bin" }));
  assert.equal(head.Metadata?.["bftp-mtime"], String(mtime.getTime()));
  const down = await scp(["alice@127.0.0.1:/scp.bin", "back.bin"]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(sha(await fs.readFile(path.join(local, "back.bin"))), sha(data));
  const other = randomBytes(1024 * 1024);
  await fs.writeFile(file, other);
  // scp opens an existing file without truncating it and cuts it to what it wrote at the end:
  // the object store takes that, since no old byte is left.
  for (let i = 0; i < 2; i++) {
    const again = await scp(["scp.bin", "alice@127.0.0.1:/scp.bin"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sha((await stored("scp.bin")) ?? Buffer.alloc(0)), sha(other));
  }
});
