import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertError } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.9: DELETE, MKDIR, RMDIR.

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

/** Run again against an object store by s3-sessions.test.ts (BFTP_TEST_BACKEND=s3). */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";
const NO_LINKS = onS3 && "an object store has no symbolic links";

const real = (name: string): string => path.join(srv.root, name);
const exists = (name: string): Promise<boolean> => srv.files.exists(name);

test("DELETE removes a file and replies ok with nothing else", async () => {
  await srv.files.write("doomed.txt", "bye");
  assert.deepEqual(await conn.request({ op: "DELETE", path: "/doomed.txt" }), { ok: true });
  assert.equal(await exists("doomed.txt"), false);
});

test(
  "DELETE of a link removes the link, never its target, even one outside the root",
  { skip: NO_LINKS },
  async () => {
    await srv.files.write("target.txt", "stays");
    await fs.symlink("target.txt", real("link"));
    await fs.writeFile(path.join(srv.outside, "canary.txt"), "stays too");
    await fs.symlink(path.join(srv.outside, "canary.txt"), real("escape-link"));
    assert.deepEqual(await conn.request({ op: "DELETE", path: "link" }), { ok: true });
    assert.deepEqual(await conn.request({ op: "DELETE", path: "escape-link" }), { ok: true });
    assert.equal(await exists("link"), false);
    assert.equal(await exists("escape-link"), false);
    assert.equal(await srv.files.text("target.txt"), "stays");
    assert.equal(await fs.readFile(path.join(srv.outside, "canary.txt"), "utf8"), "stays too");
  },
);

test("DELETE of a directory is BFTP_ERR_IS_A_DIRECTORY", async () => {
  await srv.files.mkdir("a-dir");
  assertError(await conn.request({ op: "DELETE", path: "/a-dir" }), "BFTP_ERR_IS_A_DIRECTORY");
  assertError(await conn.request({ op: "DELETE", path: "/" }), "BFTP_ERR_IS_A_DIRECTORY");
  assert.equal(await exists("a-dir"), true);
});

test("DELETE of a missing file is BFTP_ERR_NOT_FOUND", async () => {
  assertError(await conn.request({ op: "DELETE", path: "/missing.txt" }), "BFTP_ERR_NOT_FOUND");
  assertError(await conn.request({ op: "DELETE", path: "/no/dir.txt" }), "BFTP_ERR_NOT_FOUND");
});

test("DELETE of a reserved or escaping path is BFTP_ERR_PATH_REFUSED", async () => {
  if (!onS3) await srv.files.write(".bftp-part-0000", "an upload in progress");
  for (const bad of ["/.bftp-part-0000", "../outside/canary.txt", "a\nb"]) {
    assertError(await conn.request({ op: "DELETE", path: bad }), "BFTP_ERR_PATH_REFUSED");
  }
  if (!onS3) assert.equal(await exists(".bftp-part-0000"), true);
  if (!onS3) await srv.files.remove(".bftp-part-0000");
});

test("MKDIR creates a directory and replies its normalised path", async () => {
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "/made" }), { ok: true, path: "/made" });
  assert.ok(await srv.files.isDir("made"));
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "made//inner/" }), {
    ok: true,
    path: "/made/inner",
  });
  assert.ok(await srv.files.isDir("made/inner"));
});

test("MKDIR of an existing name is BFTP_ERR_EXISTS", async () => {
  await srv.files.mkdir("taken");
  await srv.files.write("taken-file", "");
  assertError(await conn.request({ op: "MKDIR", path: "/taken" }), "BFTP_ERR_EXISTS");
  assertError(await conn.request({ op: "MKDIR", path: "/taken-file" }), "BFTP_ERR_EXISTS");
  assertError(await conn.request({ op: "MKDIR", path: "/" }), "BFTP_ERR_EXISTS");
  assertError(
    await conn.request({ op: "MKDIR", path: "/taken", parents: false }),
    "BFTP_ERR_EXISTS",
  );
});

test("MKDIR with a missing parent is BFTP_ERR_NOT_FOUND and creates nothing", async () => {
  assertError(await conn.request({ op: "MKDIR", path: "/x/y/z" }), "BFTP_ERR_NOT_FOUND");
  assert.equal(await exists("x"), false);
});

test("MKDIR with parents creates the whole chain, and is idempotent", async () => {
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "/p/q/r", parents: true }), {
    ok: true,
    path: "/p/q/r",
  });
  assert.ok(await srv.files.isDir("p/q/r"));
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "/p/q/r", parents: true }), {
    ok: true,
    path: "/p/q/r",
  });
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "/p", parents: true }), {
    ok: true,
    path: "/p",
  });
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "/", parents: true }), {
    ok: true,
    path: "/",
  });
});

test("MKDIR with parents refuses a file on the way", async () => {
  await srv.files.write("plain", "");
  const through = await conn.request({ op: "MKDIR", path: "/plain/sub", parents: true });
  assertError(through, "BFTP_ERR_NOT_A_DIRECTORY");
  const onto = await conn.request({ op: "MKDIR", path: "/plain", parents: true });
  assertError(onto, "BFTP_ERR_EXISTS");
  assert.ok(await srv.files.isFile("plain"));
});

test("MKDIR of a reserved or escaping name is BFTP_ERR_PATH_REFUSED", async () => {
  for (const bad of ["/.bftp-resume-x", "/p/../../up", "/ok/.bftp-part-1/deeper"]) {
    assertError(
      await conn.request({ op: "MKDIR", path: bad, parents: true }),
      "BFTP_ERR_PATH_REFUSED",
    );
  }
  assert.equal(await exists("ok"), false);
  // Only the canary of the link test (disk-only) is there: nothing was made outside.
  assert.deepEqual(await fs.readdir(srv.outside), onS3 ? [] : ["canary.txt"]);
});

test("RMDIR removes an empty directory and replies ok with nothing else", async () => {
  await srv.files.mkdir("empty-dir");
  assert.deepEqual(await conn.request({ op: "RMDIR", path: "/empty-dir" }), { ok: true });
  assert.equal(await exists("empty-dir"), false);
});

test("RMDIR of a directory that is not empty is BFTP_ERR_NOT_EMPTY", async () => {
  await srv.files.mkdir("full/sub");
  await srv.files.write("full/file", "");
  assertError(await conn.request({ op: "RMDIR", path: "/full" }), "BFTP_ERR_NOT_EMPTY");
  await srv.files.remove("full/file");
  assertError(await conn.request({ op: "RMDIR", path: "/full" }), "BFTP_ERR_NOT_EMPTY");
  assert.ok(await srv.files.isDir("full/sub"));
});

test("RMDIR of the root is BFTP_ERR_PATH_REFUSED, however it is spelt", async () => {
  await srv.files.mkdir("r");
  for (const root of ["/", "", ".", "/r/..", "//"]) {
    assertError(await conn.request({ op: "RMDIR", path: root }), "BFTP_ERR_PATH_REFUSED");
  }
  assert.ok((await fs.stat(srv.root)).isDirectory());
});

test("RMDIR of a file or a link is BFTP_ERR_NOT_A_DIRECTORY", { skip: NO_LINKS }, async () => {
  await srv.files.write("not-dir", "");
  await srv.files.mkdir("real-dir");
  await fs.symlink("real-dir", real("dir-link"));
  assertError(await conn.request({ op: "RMDIR", path: "/not-dir" }), "BFTP_ERR_NOT_A_DIRECTORY");
  assertError(await conn.request({ op: "RMDIR", path: "/dir-link" }), "BFTP_ERR_NOT_A_DIRECTORY");
  assert.equal(await exists("dir-link"), true);
  assert.equal(await exists("real-dir"), true);
});

test("RMDIR of a missing directory is BFTP_ERR_NOT_FOUND", async () => {
  assertError(await conn.request({ op: "RMDIR", path: "/nowhere" }), "BFTP_ERR_NOT_FOUND");
});
