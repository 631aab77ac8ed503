// Issue 11, item 10d: an upload told BFTP_ERR_SHUTTING_DOWN while its data phase was still
// arriving must not be committed afterwards. The server goes on reading the phase after that
// reply (so the client is not reset before it can read it); a client that sends the rest
// anyway, trailer and all, once found the file committed behind a refusal it had been given.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Logger } from "../../src/server/logger.js";
import { BftpServer } from "../../src/server/server.js";
import { UploadStaging } from "../../src/server/upload-staging.js";
import { HEX_SIZE_HEADER, encodeFrame } from "../../src/wire/index.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

const GRACE_MS = 8000;
const NOTICE_MS = 4000;
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

let root: string;
let temp: string;

before(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-late-commit-")));
  temp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-late-staging-")));
});

after(async () => {
  await fs.rm(root, { recursive: true, force: true });
  await fs.rm(temp, { recursive: true, force: true });
});

/** One data frame: its header and bytes. */
function dataFrame(bytes: Buffer): Buffer {
  return Buffer.concat([HEX_SIZE_HEADER.encode(bytes.length), bytes]);
}

for (const resumable of [false, true]) {
  test(`issue-11: an upload refused with BFTP_ERR_SHUTTING_DOWN is not committed when its data arrives later (resumable: ${resumable})`, async () => {
    // A server per round: each round stops its own.
    const server = await BftpServer.start({
      root,
      port: 0,
      tempDir: temp,
      log: quiet,
      limits: { shutdownGraceMs: GRACE_MS, shutdownNoticeMs: NOTICE_MS },
    });
    const name = `late-${resumable}.bin`;
    const first = Buffer.from("first half;");
    const second = Buffer.from("second half");
    const raw = await ProtocolConnection.open(server.address().port);
    try {
      await raw.send({ op: "PUT", path: `/${name}`, resumable });
      await raw.sendRaw(dataFrame(first));
      const staging = UploadStaging.folderFor(temp, root);
      await waitUntil(() => {
        try {
          return readdirSync(staging).length > 0;
        } catch {
          return false;
        }
      }, "the upload has begun");

      const closing = server.close();
      const reply = await raw.reply(GRACE_MS + 5000);
      assert.equal(reply.ok, false);
      assert.equal(reply.error?.code, "BFTP_ERR_SHUTTING_DOWN");
      assert.equal(reply["close"], true);

      // The reply came at the notice; the client sends the rest of the phase anyway, with a trailer that checks.
      const whole = Buffer.concat([first, second]);
      const trailer = { ok: true, checksum: { alg: "crc32", value: crc32(whole) } };
      await raw
        .sendRaw(
          Buffer.concat([
            dataFrame(second),
            HEX_SIZE_HEADER.encode(0),
            encodeFrame(JSON.stringify(trailer)),
          ]),
        )
        .catch(() => undefined); // the server may already have closed its side
      await raw.closed(GRACE_MS + 5000);
      await closing;
      assert.deepEqual(
        (await fs.readdir(root)).filter((n) => n === name),
        [],
        "the refused upload was committed",
      );
    } finally {
      raw.close();
      await server.close();
    }
  });
}
