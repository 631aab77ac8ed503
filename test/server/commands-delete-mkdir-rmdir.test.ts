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

const real = (name: string): string => path.join(srv.root, name);

async function exists(name: string): Promise<boolean> {
  return fs.lstat(real(name)).then(
    () => true,
    () => false,
  );
}

test("DELETE removes a file and replies ok with nothing else", async () => {
  await fs.writeFile(real("doomed.txt"), "bye");
  assert.deepEqual(await conn.request({ op: "DELETE", path: "/doomed.txt" }), { ok: true });
  assert.equal(await exists("doomed.txt"), false);
});

test("DELETE of a link removes the link, never its target, even one outside the root", async () => {
  await fs.writeFile(real("target.txt"), "stays");
  await fs.symlink("target.txt", real("link"));
  await fs.writeFile(path.join(srv.outside, "canary.txt"), "stays too");
  await fs.symlink(path.join(srv.outside, "canary.txt"), real("escape-link"));
  assert.deepEqual(await conn.request({ op: "DELETE", path: "link" }), { ok: true });
  assert.deepEqual(await conn.request({ op: "DELETE", path: "escape-link" }), { ok: true });
  assert.equal(await exists("link"), false);
  assert.equal(await exists("escape-link"), false);
  assert.equal(await fs.readFile(real("target.txt"), "utf8"), "stays");
  assert.equal(await fs.readFile(path.join(srv.outside, "canary.txt"), "utf8"), "stays too");
});

test("DELETE of a directory is BFTP_ERR_IS_A_DIRECTORY", async () => {
  await fs.mkdir(real("a-dir"));
  assertError(await conn.request({ op: "DELETE", path: "/a-dir" }), "BFTP_ERR_IS_A_DIRECTORY");
  assertError(await conn.request({ op: "DELETE", path: "/" }), "BFTP_ERR_IS_A_DIRECTORY");
  assert.equal(await exists("a-dir"), true);
});

test("DELETE of a missing file is BFTP_ERR_NOT_FOUND", async () => {
  assertError(await conn.request({ op: "DELETE", path: "/missing.txt" }), "BFTP_ERR_NOT_FOUND");
  assertError(await conn.request({ op: "DELETE", path: "/no/dir.txt" }), "BFTP_ERR_NOT_FOUND");
});

test("DELETE of a reserved or escaping path is BFTP_ERR_PATH_REFUSED", async () => {
  await fs.writeFile(real(".bftp-part-0000"), "an upload in progress");
  for (const bad of ["/.bftp-part-0000", "../outside/canary.txt", "a\nb"]) {
    assertError(await conn.request({ op: "DELETE", path: bad }), "BFTP_ERR_PATH_REFUSED");
  }
  assert.equal(await exists(".bftp-part-0000"), true);
  await fs.rm(real(".bftp-part-0000"));
});

test("MKDIR creates a directory and replies its normalised path", async () => {
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "/made" }), { ok: true, path: "/made" });
  assert.ok((await fs.stat(real("made"))).isDirectory());
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "made//inner/" }), {
    ok: true,
    path: "/made/inner",
  });
  assert.ok((await fs.stat(real("made/inner"))).isDirectory());
});

test("MKDIR of an existing name is BFTP_ERR_EXISTS", async () => {
  await fs.mkdir(real("taken"));
  await fs.writeFile(real("taken-file"), "");
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
  assert.ok((await fs.stat(real("p/q/r"))).isDirectory());
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
  await fs.writeFile(real("plain"), "");
  const through = await conn.request({ op: "MKDIR", path: "/plain/sub", parents: true });
  assertError(through, "BFTP_ERR_NOT_A_DIRECTORY");
  const onto = await conn.request({ op: "MKDIR", path: "/plain", parents: true });
  assertError(onto, "BFTP_ERR_EXISTS");
  assert.ok((await fs.stat(real("plain"))).isFile());
});

test("MKDIR of a reserved or escaping name is BFTP_ERR_PATH_REFUSED", async () => {
  for (const bad of ["/.bftp-resume-x", "/p/../../up", "/ok/.bftp-part-1/deeper"]) {
    assertError(
      await conn.request({ op: "MKDIR", path: bad, parents: true }),
      "BFTP_ERR_PATH_REFUSED",
    );
  }
  assert.equal(await exists("ok"), false);
  assert.deepEqual(await fs.readdir(srv.outside), ["canary.txt"]);
});

test("RMDIR removes an empty directory and replies ok with nothing else", async () => {
  await fs.mkdir(real("empty-dir"));
  assert.deepEqual(await conn.request({ op: "RMDIR", path: "/empty-dir" }), { ok: true });
  assert.equal(await exists("empty-dir"), false);
});

test("RMDIR of a directory that is not empty is BFTP_ERR_NOT_EMPTY", async () => {
  await fs.mkdir(real("full/sub"), { recursive: true });
  await fs.writeFile(real("full/file"), "");
  assertError(await conn.request({ op: "RMDIR", path: "/full" }), "BFTP_ERR_NOT_EMPTY");
  await fs.rm(real("full/file"));
  assertError(await conn.request({ op: "RMDIR", path: "/full" }), "BFTP_ERR_NOT_EMPTY");
  assert.ok((await fs.stat(real("full/sub"))).isDirectory());
});

test("RMDIR of the root is BFTP_ERR_PATH_REFUSED, however it is spelt", async () => {
  await fs.mkdir(real("r"));
  for (const root of ["/", "", ".", "/r/..", "//"]) {
    assertError(await conn.request({ op: "RMDIR", path: root }), "BFTP_ERR_PATH_REFUSED");
  }
  assert.ok((await fs.stat(srv.root)).isDirectory());
});

test("RMDIR of a file or a link is BFTP_ERR_NOT_A_DIRECTORY", async () => {
  await fs.writeFile(real("not-dir"), "");
  await fs.mkdir(real("real-dir"));
  await fs.symlink("real-dir", real("dir-link"));
  assertError(await conn.request({ op: "RMDIR", path: "/not-dir" }), "BFTP_ERR_NOT_A_DIRECTORY");
  assertError(await conn.request({ op: "RMDIR", path: "/dir-link" }), "BFTP_ERR_NOT_A_DIRECTORY");
  assert.equal(await exists("dir-link"), true);
  assert.equal(await exists("real-dir"), true);
});

test("RMDIR of a missing directory is BFTP_ERR_NOT_FOUND", async () => {
  assertError(await conn.request({ op: "RMDIR", path: "/nowhere" }), "BFTP_ERR_NOT_FOUND");
});
