import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §6.1 (a link as the last component: followed by the commands that read, acted
// on as a name by those that change names, never written through) and §6.2 (the root cannot
// be removed, renamed or replaced): issue 11. RESUME's row is left to the uploads tests (item
// 10a changes it).
let served: TestServer;
let conn: ProtocolConnection;
let secret: string;
let outsideDir: string;

before(async () => {
  served = await startServer();
  secret = path.join(served.outside, "secret.txt");
  outsideDir = path.join(served.outside, "dir");
  conn = await ProtocolConnection.open(served.port);
});

after(async () => {
  conn.close();
  await served.stop();
});

beforeEach(async () => {
  // Fresh links for each test: out (a file outside), outdir (a folder outside), gone (nowhere).
  await fs.rm(outsideDir, { recursive: true, force: true });
  await fs.mkdir(outsideDir);
  await fs.writeFile(secret, "outside");
  for (const name of await fs.readdir(served.root)) {
    await fs.rm(path.join(served.root, name), { recursive: true, force: true });
  }
  await fs.symlink(secret, path.join(served.root, "out"));
  await fs.symlink(outsideDir, path.join(served.root, "outdir"));
  await fs.symlink(path.join(served.outside, "nothing"), path.join(served.root, "gone"));
  await fs.writeFile(path.join(served.root, "f.txt"), "inside");
});

async function isLink(name: string): Promise<boolean> {
  return (await fs.lstat(path.join(served.root, name))).isSymbolicLink();
}

async function put(target: string, fields: object = {}): Promise<ReturnType<typeof conn.reply>> {
  await conn.send({ op: "PUT", path: target, ...fields });
  await conn.sendData(Buffer.from("new"));
  return conn.reply();
}

test("reading commands follow the link and refuse it: PATH_REFUSED", async () => {
  for (const name of ["/out", "/gone"]) {
    assertError((await conn.get(name)).reply, "BFTP_ERR_PATH_REFUSED");
    assertError(await conn.request({ op: "STAT", path: name }), "BFTP_ERR_PATH_REFUSED");
    assertError(await conn.request({ op: "HASH", path: name }), "BFTP_ERR_PATH_REFUSED");
  }
  assertError(await conn.request({ op: "CD", path: "/outdir" }), "BFTP_ERR_PATH_REFUSED");
  assertError((await conn.list("/outdir")).reply, "BFTP_ERR_PATH_REFUSED");
  // A link in an earlier component is always followed, for every command.
  assertError(await conn.request({ op: "MKDIR", path: "/outdir/x" }), "BFTP_ERR_PATH_REFUSED");
  assertError(await put("/outdir/x"), "BFTP_ERR_PATH_REFUSED");
  assert.deepEqual(await fs.readdir(outsideDir), []);
});

test("DELETE removes the link itself; the file it points to stays", async () => {
  assertOk(await conn.request({ op: "DELETE", path: "/out" }));
  assertOk(await conn.request({ op: "DELETE", path: "/gone" }));
  await assert.rejects(fs.lstat(path.join(served.root, "out")), { code: "ENOENT" });
  assert.equal(await fs.readFile(secret, "utf8"), "outside");
});

test("RENAME moves the link itself; onto a link it is EXISTS, or with overwrite replaces it", async () => {
  assertOk(await conn.request({ op: "RENAME", from: "/out", to: "/moved" }));
  assert.equal(await isLink("moved"), true);
  assertError(await conn.request({ op: "RENAME", from: "/f.txt", to: "/gone" }), "BFTP_ERR_EXISTS");
  assertOk(await conn.request({ op: "RENAME", from: "/f.txt", to: "/moved", overwrite: true }));
  assert.equal(await isLink("moved"), false);
  assert.equal(await fs.readFile(path.join(served.root, "moved"), "utf8"), "inside");
  assert.equal(await fs.readFile(secret, "utf8"), "outside");
});

test("PUT onto a link: EXISTS, or with overwrite the link is replaced, never written through", async () => {
  assertError(await put("/out"), "BFTP_ERR_EXISTS");
  assertOk(await put("/out", { overwrite: true }));
  assert.equal(await isLink("out"), false);
  assert.equal(await fs.readFile(path.join(served.root, "out"), "utf8"), "new");
  assert.equal(await fs.readFile(secret, "utf8"), "outside");
});

test("MKDIR onto a link is EXISTS; RMDIR of a link is NOT_A_DIRECTORY", async () => {
  assertError(await conn.request({ op: "MKDIR", path: "/outdir" }), "BFTP_ERR_EXISTS");
  assertError(await conn.request({ op: "MKDIR", path: "/gone" }), "BFTP_ERR_EXISTS");
  assertError(await conn.request({ op: "RMDIR", path: "/outdir" }), "BFTP_ERR_NOT_A_DIRECTORY");
  assert.equal(await isLink("outdir"), true);
  await assert.rejects(fs.lstat(path.join(served.outside, "nothing")), { code: "ENOENT" });
});

test("the root is never removed, renamed or replaced (§6.2)", async () => {
  assertError(await conn.request({ op: "RMDIR", path: "/" }), "BFTP_ERR_PATH_REFUSED");
  assertError(await conn.request({ op: "DELETE", path: "/" }), "BFTP_ERR_IS_A_DIRECTORY");
  assertError(await conn.request({ op: "RENAME", from: "/", to: "/x" }), "BFTP_ERR_PATH_REFUSED");
  assertError(
    await conn.request({ op: "RENAME", from: "/f.txt", to: "/", overwrite: true }),
    "BFTP_ERR_PATH_REFUSED",
  );
  assertError(await conn.request({ op: "MKDIR", path: "/" }), "BFTP_ERR_EXISTS");
  assertError(await put("/", { overwrite: true }), "BFTP_ERR_IS_A_DIRECTORY");
  // Still there, still readable, and the connection still in step.
  const stat = await conn.request({ op: "STAT", path: "/" });
  assertOk(stat);
  assert.equal((stat["entry"] as { type: string }).type, "dir");
  assert.equal(await fs.readFile(path.join(served.root, "f.txt"), "utf8"), "inside");
});
