import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import type { Logger } from "../../src/server/logger.js";
import { BftpServer } from "../../src/server/server.js";
import { UploadStaging } from "../../src/server/upload-staging.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 11, item 10d: transfers cut by a shutdown were told only "connection lost". Now, in
// the last part of the shutdown grace (shutdownNoticeMs), a running download ends with a
// BFTP_ERR_SHUTTING_DOWN trailer, a running upload gets a BFTP_ERR_SHUTTING_DOWN reply, and
// a request queued behind them gets the same fatal reply; the client library surfaces it.
//
// No timing margin decides the outcome: the clients hold their transfers open until the
// server logs that the notice began, and the notice lasts seconds.

const GRACE_MS = 8000;
const NOTICE_MS = 4000;

let base: string;
let temp: string;
let server: BftpServer;
let noticed: Promise<void>;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-shutdown-notice-")));
  temp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-shutdown-staging-")));
  const big = await fs.open(path.join(base, "big.bin"), "w");
  // Sparse, so free to make: far more than socket buffers of any size could take in while
  // the download's destination holds its first chunk.
  await big.truncate(1024 * 1024 * 1024);
  await big.close();
  let onNotice!: () => void;
  noticed = new Promise((resolve) => {
    onNotice = resolve;
  });
  const log: Logger = {
    info: (event) => {
      if (event === "shutdown-notice") onNotice();
    },
    warn: () => undefined,
    error: () => undefined,
  };
  server = await BftpServer.start({
    root: base,
    port: 0,
    tempDir: temp,
    log,
    limits: { shutdownGraceMs: GRACE_MS, shutdownNoticeMs: NOTICE_MS },
  });
});

after(async () => {
  await server.close();
  await fs.rm(base, { recursive: true, force: true });
  await fs.rm(temp, { recursive: true, force: true });
});

/** The upload files in the server's staging folder now (uploads never show in the root). */
function stagedNow(): string[] {
  try {
    return readdirSync(UploadStaging.folderFor(temp, base));
  } catch {
    return [];
  }
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}

test("issue-11: a download and an upload running at shutdown each end with BFTP_ERR_SHUTTING_DOWN", async () => {
  const url = `bftp://127.0.0.1:${server.address().port}`;
  const downloader = await BftpClient.connect(url);
  const uploader = await BftpClient.connect(url);
  const raw = await ProtocolConnection.open(server.address().port);
  try {
    // The download's destination takes its first chunk, then holds until the notice.
    const firstWrite = signal();
    const release = signal();
    const sink = new Writable({
      write(_chunk: Buffer, _encoding, done) {
        firstWrite.fire();
        release.promise.then(() => {
          done();
        }, done);
      },
    });
    const download = downloader.download("/big.bin", sink).then(
      () => undefined,
      (err: unknown) => err,
    );
    // The upload sends 1 MiB, then waits (its source has nothing more yet).
    const source = new Readable({ read() {} });
    source.push(randomBytes(1 << 20));
    const upload = uploader.upload(source, "/up.bin", { resumable: true }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await firstWrite.promise;
    await waitUntil(() => stagedNow().length > 0, "the upload has begun (its partial file shows)");
    // A raw client's GET, running when the notice comes, and a NOOP queued behind it.
    await raw.send({ op: "GET", path: "/big.bin" });
    await raw.send({ op: "NOOP", tag: "queued" });
    assert.equal((await raw.reply()).ok, true);
    raw.socket.pause();

    const closing = server.close();
    // (Without the notice, as before the fix, the grace runs out and `closing` resolves.)
    await Promise.race([noticed, closing]);
    release.fire();
    raw.socket.resume();

    const downloadFailure = await download;
    assert.ok(isBftpError(downloadFailure, "BFTP_ERR_SHUTTING_DOWN"), String(downloadFailure));
    const uploadFailure = await upload;
    assert.ok(isBftpError(uploadFailure, "BFTP_ERR_SHUTTING_DOWN"), String(uploadFailure));

    // On the wire: the data phase ends with the code in its trailer, and the queued request
    // gets the fatal reply with it.
    const { trailer } = await raw.readData();
    assert.equal(trailer.ok, false);
    assert.equal(trailer.error?.code, "BFTP_ERR_SHUTTING_DOWN");
    const queued = await raw.reply();
    assert.equal(queued.error?.code, "BFTP_ERR_SHUTTING_DOWN");
    assert.equal(queued["close"], true);
    await raw.closed();
    await closing;
    assert.equal(server.connections, 0);
    source.destroy();
  } finally {
    raw.close();
    downloader.connection.socket.destroy();
    uploader.connection.socket.destroy();
  }
});
