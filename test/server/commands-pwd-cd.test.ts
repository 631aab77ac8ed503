import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.4 (PWD, CD) and §6 (relative paths resolve against the working directory).

let srv: TestServer;

/** Run again against an object store by s3-sessions.test.ts (BFTP_TEST_BACKEND=s3). */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";

before(async () => {
  srv = await startServer();
  await srv.files.mkdir("docs/2026");
  await srv.files.write("docs/a.txt", "in docs");
  await srv.files.write("file.txt", "a file");
  if (!onS3) await fs.symlink("docs", path.join(srv.root, "docs-link"));
});

after(() => srv.stop());

async function withConnection(body: (conn: ProtocolConnection) => Promise<void>): Promise<void> {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await body(conn);
  } finally {
    conn.close();
  }
}

test("PWD starts at /", () =>
  withConnection(async (conn) => {
    assert.deepEqual(await conn.request({ op: "PWD" }), { ok: true, path: "/" });
  }));

test("CD replies the new working directory, normalised, and PWD reports it", () =>
  withConnection(async (conn) => {
    assert.deepEqual(await conn.request({ op: "CD", path: "docs" }), { ok: true, path: "/docs" });
    assert.deepEqual(await conn.request({ op: "PWD" }), { ok: true, path: "/docs" });
    assert.deepEqual(await conn.request({ op: "CD", path: "2026" }), {
      ok: true,
      path: "/docs/2026",
    });
    assert.deepEqual(await conn.request({ op: "CD", path: ".." }), { ok: true, path: "/docs" });
    assert.deepEqual(await conn.request({ op: "CD", path: "." }), { ok: true, path: "/docs" });
    assert.deepEqual(await conn.request({ op: "CD", path: "/" }), { ok: true, path: "/" });
    assert.deepEqual(await conn.request({ op: "CD", path: "//docs/./2026//" }), {
      ok: true,
      path: "/docs/2026",
    });
    assert.deepEqual(await conn.request({ op: "CD", path: "../../docs" }), {
      ok: true,
      path: "/docs",
    });
  }));

test(
  "CD through a symbolic link inside the root keeps the virtual path",
  { skip: onS3 && "an object store has no symbolic links" },
  () =>
    withConnection(async (conn) => {
      assert.deepEqual(await conn.request({ op: "CD", path: "/docs-link" }), {
        ok: true,
        path: "/docs-link",
      });
      const stat = await conn.request({ op: "STAT", path: "a.txt" });
      assertOk(stat);
      assert.equal((stat["entry"] as { size: number }).size, "in docs".length);
    }),
);

test("relative paths of other commands resolve against the working directory", () =>
  withConnection(async (conn) => {
    assertOk(await conn.request({ op: "CD", path: "/docs" }));
    const stat = await conn.request({ op: "STAT", path: "a.txt" });
    assertOk(stat);
    assert.equal((stat["entry"] as { name: string }).name, "a.txt");
    assertOk(await conn.put("uploaded.txt", Buffer.from("relative")));
    assert.equal(await srv.files.text("docs/uploaded.txt"), "relative");
    assert.deepEqual(await conn.request({ op: "MKDIR", path: "sub" }), {
      ok: true,
      path: "/docs/sub",
    });
    const listed = await conn.list();
    assert.equal(listed.reply["path"], "/docs");
  }));

test("the working directory belongs to one session", () =>
  withConnection(async (first) => {
    assertOk(await first.request({ op: "CD", path: "/docs" }));
    await withConnection(async (second) => {
      assert.deepEqual(await second.request({ op: "PWD" }), { ok: true, path: "/" });
    });
    assert.deepEqual(await first.request({ op: "PWD" }), { ok: true, path: "/docs" });
  }));

test("CD to a file is BFTP_ERR_NOT_A_DIRECTORY", () =>
  withConnection(async (conn) => {
    assertError(await conn.request({ op: "CD", path: "/file.txt" }), "BFTP_ERR_NOT_A_DIRECTORY");
    assertError(await conn.request({ op: "CD", path: "docs/a.txt" }), "BFTP_ERR_NOT_A_DIRECTORY");
  }));

test("CD to a missing directory is BFTP_ERR_NOT_FOUND", () =>
  withConnection(async (conn) => {
    assertError(await conn.request({ op: "CD", path: "nope" }), "BFTP_ERR_NOT_FOUND");
    assertError(await conn.request({ op: "CD", path: "/docs/nope/deeper" }), "BFTP_ERR_NOT_FOUND");
  }));

test("CD above the root, or to a malformed or reserved path, is BFTP_ERR_PATH_REFUSED", () =>
  withConnection(async (conn) => {
    for (const bad of ["..", "/docs/../..", "a\\b", "a\u0000b", "tab\there", ".bftp-part-1"]) {
      assertError(await conn.request({ op: "CD", path: bad }), "BFTP_ERR_PATH_REFUSED");
    }
  }));

test("a refused CD leaves the working directory where it was", () =>
  withConnection(async (conn) => {
    assertOk(await conn.request({ op: "CD", path: "/docs" }));
    assertError(await conn.request({ op: "CD", path: "nope" }), "BFTP_ERR_NOT_FOUND");
    assertError(await conn.request({ op: "CD", path: "a.txt" }), "BFTP_ERR_NOT_A_DIRECTORY");
    assertError(await conn.request({ op: "CD", path: "../.." }), "BFTP_ERR_PATH_REFUSED");
    assert.deepEqual(await conn.request({ op: "PWD" }), { ok: true, path: "/docs" });
  }));
