import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { LogFields, Logger } from "../../src/server/logger.js";
import { ANONYMOUS } from "../../src/server/accounts/users-file.js";
import { BftpServer } from "../../src/server/server.js";
import { ROOT_STAGING, partialKey, resumeName, uploadName } from "../../src/server/temp-files.js";
import { UploadStaging } from "../../src/server/upload-staging.js";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 11, item 3: where uploads are staged (upload-staging.ts) and what the start-up sweep
// does with what earlier runs left (temp-files.ts).

let base: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-staging-")));
});

after(() => fs.rm(base, { recursive: true, force: true }));

/** A logger that keeps every event, for checks on warnings. */
function recorder(): {
  log: Logger;
  events: { level: string; event: string; fields: LogFields }[];
} {
  const events: { level: string; event: string; fields: LogFields }[] = [];
  const at =
    (level: string) =>
    (event: string, fields: LogFields = {}): void => {
      events.push({ level, event, fields });
    };
  return { log: { info: at("info"), warn: at("warn"), error: at("error") }, events };
}

async function folder(name: string): Promise<string> {
  const dir = path.join(base, name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

test("on the root's file system, uploads are staged outside the root and it stays clean", async () => {
  const root = await folder("same/root");
  const temp = path.join(base, "same", "temp");
  const { log, events } = recorder();
  const server = await BftpServer.start({ root, port: 0, tempDir: temp, log });
  const conn = await ProtocolConnection.open(server.address().port, { tls: false });
  try {
    assertOk(await conn.put("/a.bin", randomBytes(1000), { resumable: true }));
    assert.deepEqual(await fs.readdir(root), ["a.bin"]);
    assert.ok(statSync(UploadStaging.folderFor(temp, root)).isDirectory());
    assert.deepEqual(
      events.filter((e) => e.level === "warn"),
      [],
    );
  } finally {
    conn.close();
    await server.close();
  }
  // Nothing kept for resume: the server's empty folder is removed when it stops.
  await assert.rejects(fs.stat(UploadStaging.folderFor(temp, root)), { code: "ENOENT" });
});

test("a temp dir on another file system: staged in the root's hidden folder, with a warning", async (t) => {
  const shm = "/dev/shm";
  const root = await folder("other/root");
  if (statSync(shm, { throwIfNoEntry: false })?.dev === statSync(root).dev) {
    t.skip("no second file system (/dev/shm) to stage on");
    return;
  }
  const temp = await fs.mkdtemp(path.join(shm, "bftp-staging-test-"));
  const { log, events } = recorder();
  const server = await BftpServer.start({ root, port: 0, tempDir: temp, log });
  const conn = await ProtocolConnection.open(server.address().port, { tls: false });
  try {
    const warned = events.filter((e) => e.event === "temp-dir-elsewhere");
    assert.equal(warned.length, 1, "one warning at start-up");
    assert.equal(warned[0]?.level, "warn");
    // A cut resumable upload is kept in ROOT/.bftp-uploads, which no command can reach.
    const cut = await ProtocolConnection.open(server.address().port, { tls: false });
    const whole = randomBytes(300_000);
    await writeAll(cut.socket, [
      encodeFrame(JSON.stringify({ op: "PUT", path: "/b.bin", resumable: true })),
      HEX_SIZE_HEADER.encode(100_000),
      whole.subarray(0, 100_000),
    ]);
    cut.socket.destroy();
    await waitUntil(() => server.connections === 1, "the cut session has ended");
    const hidden = path.join(root, ROOT_STAGING);
    assert.equal((await fs.stat(hidden)).mode & 0o777, 0o700);
    assert.equal((await fs.readdir(hidden)).length, 1);
    const listed = await conn.list("/");
    assert.deepEqual(listed.entries, [], "LIST does not show it");
    for (const op of ["STAT", "LIST", "GET", "DELETE", "RMDIR"]) {
      assertError(await conn.request({ op, path: `/${ROOT_STAGING}` }), "BFTP_ERR_PATH_REFUSED");
    }
    assert.equal((await conn.request({ op: "RESUME", path: "/b.bin" }))["offset"], 100_000);
    assertOk(
      await conn.put("/b.bin", whole.subarray(100_000), { offset: 100_000, resumable: true }),
    );
    assert.ok((await fs.readFile(path.join(root, "b.bin"))).equals(whole));
    assert.deepEqual(await fs.readdir(hidden), []);
  } finally {
    conn.close();
    await server.close();
    await fs.rm(temp, { recursive: true, force: true });
  }
});

test("the start-up sweep: plain uploads go, the newest resumable one per path stays as its partial", async () => {
  const root = await folder("sweep/root");
  const temp = path.join(base, "sweep", "temp");
  const staging = UploadStaging.folderFor(temp, root);
  await fs.mkdir(staging, { recursive: true });
  await fs.mkdir(path.join(root, "sub", ROOT_STAGING), { recursive: true });
  const key = partialKey(ANONYMOUS, root, "/kept.bin");
  const stale = partialKey(ANONYMOUS, root, "/stale.bin");
  const hour = 3600_000;
  const write = async (dir: string, name: string, data: string, ageMs: number): Promise<void> => {
    await fs.writeFile(path.join(dir, name), data);
    const when = (Date.now() - ageMs) / 1000;
    await fs.utimes(path.join(dir, name), when, when);
  };
  await write(staging, "part-0123456789abcdef", "a plain upload", 0);
  await write(staging, resumeName(key), "older partial", 2 * hour);
  const newest = "newest: cut by a server that died";
  await write(staging, uploadName(key), newest, hour);
  await write(staging, uploadName(key), "in between", 1.5 * hour);
  await write(staging, resumeName(stale), "past its time", 48 * hour);
  await write(staging, "someone-else.txt", "not ours", 0);
  await write(root, ".bftp-part-0123456789abcdef", "old layout", 0);
  await write(path.join(root, "sub"), ".bftp-resume-0123456789abcdef", "old layout", 0);
  await write(path.join(root, "sub", ROOT_STAGING), "part-fedcba9876543210", "plain", 0);
  await write(root, "user.txt", "the user's", 0);

  const { log, events } = recorder();
  const server = await BftpServer.start({ root, port: 0, tempDir: temp, log });
  try {
    assert.deepEqual((await fs.readdir(staging)).sort(), [resumeName(key), "someone-else.txt"]);
    assert.equal(await fs.readFile(path.join(staging, resumeName(key)), "utf8"), newest);
    assert.deepEqual((await fs.readdir(root)).sort(), ["sub", "user.txt"]);
    assert.deepEqual(await fs.readdir(path.join(root, "sub")), [ROOT_STAGING]);
    assert.deepEqual(await fs.readdir(path.join(root, "sub", ROOT_STAGING)), []);
    const swept = events.find((e) => e.event === "swept-temp-files");
    assert.equal(swept?.fields["removed"], 7);
    const conn = await ProtocolConnection.open(server.address().port, { tls: false });
    try {
      assert.equal(
        (await conn.request({ op: "RESUME", path: "/kept.bin" }))["offset"],
        newest.length,
      );
      assertError(await conn.request({ op: "RESUME", path: "/stale.bin" }), "BFTP_ERR_NOT_FOUND");
    } finally {
      conn.close();
    }
  } finally {
    await server.close();
  }
});

test("servers of different roots sharing a temp dir use folders of their own", () => {
  const temp = path.join(base, "shared");
  const one = UploadStaging.folderFor(temp, "/srv/one");
  const two = UploadStaging.folderFor(temp, "/srv/two");
  assert.notEqual(one, two);
  assert.equal(path.dirname(one), temp);
  assert.equal(UploadStaging.folderFor(temp, "/srv/one"), one, "the same root, the same folder");
});
