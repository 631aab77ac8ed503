import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertError } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8 (the entry) and §8.5 STAT.

const MTIME = 1_763_700_000_500; // ms, with half a second (exact in binary) to check precision

let srv: TestServer;
let conn: ProtocolConnection;

/** Run again against an object store by s3-sessions.test.ts (BFTP_TEST_BACKEND=s3). */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";
const NO_LINKS = onS3 && "an object store has no symbolic links";

before(async () => {
  srv = await startServer();
  await srv.files.mkdir("docs");
  await srv.files.write("docs/report.pdf", Buffer.alloc(48_213, 1));
  await srv.files.setMtime("docs/report.pdf", MTIME);
  await srv.files.write("empty", "");
  await srv.files.write("naïve 😀.txt", "unicode");
  await fs.writeFile(path.join(srv.outside, "canary.txt"), "secret");
  if (!onS3) {
    await fs.symlink("docs/report.pdf", path.join(srv.root, "report-link"));
    await fs.symlink(path.join(srv.outside, "canary.txt"), path.join(srv.root, "escape-link"));
  }
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

async function entryOf(pathName: string): Promise<Record<string, unknown>> {
  const reply = await conn.request({ op: "STAT", path: pathName });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.deepEqual(Object.keys(reply).sort(), ["entry", "ok"]);
  return reply["entry"] as Record<string, unknown>;
}

/** A folder's mtime as STAT reports it: the disk's; 0 on an object store (a prefix has none). */
async function folderMtime(real: string): Promise<number> {
  return onS3 ? 0 : Math.trunc((await fs.stat(real)).mtimeMs);
}

test("STAT of a file gives its name, type, size and mtime in ms", async () => {
  assert.deepEqual(await entryOf("/docs/report.pdf"), {
    name: "report.pdf",
    type: "file",
    size: 48_213,
    mtime: MTIME,
  });
  assert.deepEqual(await entryOf("/empty"), {
    name: "empty",
    type: "file",
    size: 0,
    mtime: await srv.files.mtime("empty"),
  });
});

test("STAT of a directory has type dir and size 0", async () => {
  assert.deepEqual(await entryOf("/docs"), {
    name: "docs",
    type: "dir",
    size: 0,
    mtime: await folderMtime(path.join(srv.root, "docs")),
  });
  assert.equal((await entryOf("/docs/"))["name"], "docs");
});

test('STAT of / names it ""', async () => {
  assert.deepEqual(await entryOf("/"), {
    name: "",
    type: "dir",
    size: 0,
    mtime: await folderMtime(srv.root),
  });
});

test("STAT names the last component of a relative or non-normalised path", async () => {
  assert.equal((await entryOf("docs/./report.pdf"))["name"], "report.pdf");
  assert.equal((await entryOf("docs/../docs//report.pdf"))["name"], "report.pdf");
  assert.equal((await entryOf("naïve 😀.txt"))["size"], "unicode".length);
});

test("STAT follows a symbolic link that stays inside the root", { skip: NO_LINKS }, async () => {
  assert.deepEqual(await entryOf("/report-link"), {
    name: "report-link",
    type: "file",
    size: 48_213,
    mtime: MTIME,
  });
});

test("STAT of a missing path is BFTP_ERR_NOT_FOUND", async () => {
  assertError(await conn.request({ op: "STAT", path: "/nope" }), "BFTP_ERR_NOT_FOUND");
  assertError(await conn.request({ op: "STAT", path: "/docs/nope.pdf" }), "BFTP_ERR_NOT_FOUND");
  assertError(await conn.request({ op: "STAT", path: "/nope/deeper" }), "BFTP_ERR_NOT_FOUND");
});

test("STAT of a path through a file is BFTP_ERR_NOT_A_DIRECTORY", async () => {
  assertError(
    await conn.request({ op: "STAT", path: "/docs/report.pdf/x" }),
    "BFTP_ERR_NOT_A_DIRECTORY",
  );
});

test("STAT outside the root, by .. or by a planted link, is BFTP_ERR_PATH_REFUSED", async () => {
  const bads = ["..", "/../outside", "/.bftp-part-0", "a\u007fb"];
  for (const bad of onS3 ? bads : [...bads, "/escape-link"]) {
    assertError(await conn.request({ op: "STAT", path: bad }), "BFTP_ERR_PATH_REFUSED");
  }
});
