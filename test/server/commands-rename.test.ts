import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.9 RENAME: both paths through the resolver, no-clobber unless asked,
// never the root, never a directory into itself.

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
/** Why a test of folder renames does not run there: S3 refuses them (docs/scale-out.md). */
const FOLDERS =
  onS3 && "an object store cannot rename a folder (BFTP_ERR_NOT_SUPPORTED, tested below)";

const real = (name: string): string => path.join(srv.root, name);
const read = (name: string): Promise<string> => srv.files.text(name);
const exists = (name: string): Promise<boolean> => srv.files.exists(name);

beforeEach(async () => {
  // A fresh tree for every test: a.txt, b.txt, d/ (with inner.txt and sub/), e/ (empty).
  for (const name of await srv.files.list()) await srv.files.remove(name);
  await srv.files.write("a.txt", "A");
  await srv.files.write("b.txt", "B");
  await srv.files.mkdir("d/sub");
  await srv.files.write("d/inner.txt", "inner");
  await srv.files.mkdir("e");
});

function rename(from: string, to: string, overwrite?: boolean) {
  return conn.request(
    overwrite === undefined ? { op: "RENAME", from, to } : { op: "RENAME", from, to, overwrite },
  );
}

test("RENAME of a file moves it and replies the new path", async () => {
  assert.deepEqual(await rename("/a.txt", "/c.txt"), { ok: true, path: "/c.txt" });
  assert.equal(await exists("a.txt"), false);
  assert.equal(await read("c.txt"), "A");
  assert.deepEqual(await rename("c.txt", "d/sub/moved.txt"), {
    ok: true,
    path: "/d/sub/moved.txt",
  });
  assert.equal(await read("d/sub/moved.txt"), "A");
});

test("RENAME of a directory moves it with its contents", { skip: FOLDERS }, async () => {
  assert.deepEqual(await rename("/d", "/e/d2"), { ok: true, path: "/e/d2" });
  assert.equal(await exists("d"), false);
  assert.equal(await read("e/d2/inner.txt"), "inner");
  assert.ok(await srv.files.isDir("e/d2/sub"));
});

test("RENAME resolves relative paths against the working directory", async () => {
  assertOk(await conn.request({ op: "CD", path: "/d" }));
  try {
    assert.deepEqual(await rename("inner.txt", "../top.txt"), { ok: true, path: "/top.txt" });
    assert.equal(await read("top.txt"), "inner");
  } finally {
    assertOk(await conn.request({ op: "CD", path: "/" }));
  }
});

test(
  "RENAME onto an existing name without overwrite is BFTP_ERR_EXISTS, both unchanged",
  { skip: FOLDERS },
  async () => {
    assertError(await rename("/a.txt", "/b.txt"), "BFTP_ERR_EXISTS");
    assertError(await rename("/a.txt", "/b.txt", false), "BFTP_ERR_EXISTS");
    assertError(await rename("/a.txt", "/d"), "BFTP_ERR_EXISTS");
    assertError(await rename("/d", "/e"), "BFTP_ERR_EXISTS");
    assertError(await rename("/e", "/a.txt"), "BFTP_ERR_EXISTS");
    assert.equal(await read("a.txt"), "A");
    assert.equal(await read("b.txt"), "B");
    assert.equal(await read("d/inner.txt"), "inner");
  },
);

test("RENAME with overwrite replaces an existing file", async () => {
  assert.deepEqual(await rename("/a.txt", "/b.txt", true), { ok: true, path: "/b.txt" });
  assert.equal(await exists("a.txt"), false);
  assert.equal(await read("b.txt"), "A");
});

test(
  "RENAME with overwrite replaces an empty directory, not a full one",
  { skip: FOLDERS },
  async () => {
    assert.deepEqual(await rename("/d", "/e", true), { ok: true, path: "/e" });
    assert.equal(await read("e/inner.txt"), "inner");
    await srv.files.mkdir("f");
    assertError(await rename("/f", "/e", true), "BFTP_ERR_NOT_EMPTY");
    assert.equal(await read("e/inner.txt"), "inner");
  },
);

test(
  "RENAME with overwrite across kinds: file onto directory, directory onto file",
  { skip: FOLDERS },
  async () => {
    assertError(await rename("/a.txt", "/e", true), "BFTP_ERR_IS_A_DIRECTORY");
    assertError(await rename("/e", "/a.txt", true), "BFTP_ERR_NOT_A_DIRECTORY");
    assert.equal(await read("a.txt"), "A");
    assert.ok(await srv.files.isDir("e"));
  },
);

test("RENAME of a directory into itself is BFTP_ERR_PATH_REFUSED", { skip: FOLDERS }, async () => {
  assertError(await rename("/d", "/d/sub/d"), "BFTP_ERR_PATH_REFUSED");
  assertError(await rename("/d", "/d/x"), "BFTP_ERR_PATH_REFUSED");
  assertError(await rename("d", "d/../d/sub/x", true), "BFTP_ERR_PATH_REFUSED");
  // Components are compared, not string prefixes: /d2 is not inside /d.
  assert.deepEqual(await rename("/d", "/d2"), { ok: true, path: "/d2" });
});

test(
  "regression: RENAME of a directory into itself through a link is BFTP_ERR_PATH_REFUSED",
  { skip: onS3 && "an object store has no symbolic links" },
  async () => {
    // The virtual paths do not nest, the real ones do: rename(2) would fail with EINVAL and
    // the client would see BFTP_ERR_INTERNAL.
    await fs.symlink("d", real("d-link"));
    assertError(await rename("/d", "/d-link/x"), "BFTP_ERR_PATH_REFUSED");
    assertError(await rename("/d", "/d-link/sub/x", true), "BFTP_ERR_PATH_REFUSED");
    assert.equal(await read("d/inner.txt"), "inner");
  },
);

test("RENAME of the root, or onto it, is BFTP_ERR_PATH_REFUSED", async () => {
  assertError(await rename("/", "/x"), "BFTP_ERR_PATH_REFUSED");
  assertError(await rename("/d/..", "/x", true), "BFTP_ERR_PATH_REFUSED");
  assertError(await rename("/e", "/", true), "BFTP_ERR_PATH_REFUSED");
  assert.ok(await srv.files.isDir("e"));
});

test(
  "RENAME of a missing name, or into a missing directory, is BFTP_ERR_NOT_FOUND",
  { skip: FOLDERS },
  async () => {
    assertError(await rename("/missing", "/x"), "BFTP_ERR_NOT_FOUND");
    assertError(await rename("/a.txt", "/no/dir/a.txt"), "BFTP_ERR_NOT_FOUND");
    assertError(await rename("/d", "/no/dir/d"), "BFTP_ERR_NOT_FOUND");
    assert.equal(await read("a.txt"), "A");
  },
);

test("both paths of RENAME go through the resolver", async () => {
  if (!onS3) await fs.writeFile(real(".bftp-part-1"), "an upload in progress");
  for (const [from, to] of [
    ["/a.txt", "../outside/a.txt"],
    ["../outside/x", "/x"],
    ["/a.txt", "/.bftp-part-2"],
    ["/.bftp-part-1", "/stolen"],
    ["/a.txt", "/d/a\\b"],
  ] as const) {
    assertError(await rename(from, to, true), "BFTP_ERR_PATH_REFUSED");
  }
  assert.equal(await read("a.txt"), "A");
  assert.equal(await exists("stolen"), false);
  assert.deepEqual(await fs.readdir(srv.outside), []);
});

test(
  "on an object store, RENAME of a folder is BFTP_ERR_NOT_SUPPORTED and changes nothing",
  { skip: !onS3 && "the disk renames folders (tests above)" },
  async () => {
    assertError(await rename("/d", "/moved"), "BFTP_ERR_NOT_SUPPORTED");
    assertError(await rename("/e", "/e2", true), "BFTP_ERR_NOT_SUPPORTED");
    assert.equal(await read("d/inner.txt"), "inner");
    assert.ok(await srv.files.isDir("e"));
    assert.equal(await exists("moved"), false);
  },
);
