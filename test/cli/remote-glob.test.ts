import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { expandRemoteGlob, isRemoteGlob, unescapeGlob } from "../../src/cli/remote-glob.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

// Issue 13, item 3: the glob expander on its own (src/cli/remote-glob.ts): which paths are
// globs, escapes, folders-only patterns, the bound on a walk.

let srv: TestServer;
let client: BftpClient;

before(async () => {
  srv = await startServer();
  for (const name of [
    "d/a.txt",
    "d/b.txt",
    "d/sub/c.txt",
    "d/sub2/c.txt",
    "d/.hidden/c.txt",
    "d/x[1].txt",
    "d/x1.txt",
    "wide/x",
  ]) {
    await fs.mkdir(path.dirname(path.join(srv.root, name)), { recursive: true });
    await fs.writeFile(path.join(srv.root, name), name);
  }
  for (let i = 0; i < 30; i++) await fs.writeFile(path.join(srv.root, "wide", `f${i}`), "");
  client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
});

after(async () => {
  await client.close();
  await srv.stop();
});

test("a path is a glob when *, ? or [ is not escaped by a backslash", () => {
  for (const glob of ["/a/*.txt", "/a?", "/[ab]", "/x/**/y", "/a\\\\*"]) {
    assert.equal(isRemoteGlob(glob), true, glob);
  }
  for (const plain of ["/a/b.txt", "/a\\*.txt", "/a\\?", "/\\[ab]", "/{a,b}", "/!(x)"]) {
    assert.equal(isRemoteGlob(plain), false, plain);
  }
  assert.equal(unescapeGlob("/a\\*b\\[1\\].txt"), "/a*b[1].txt");
});

test("a glob in a middle segment walks each matching folder", async () => {
  const matches = await expandRemoteGlob(client, "/d/sub*/c.txt");
  assert.deepEqual(
    matches.map((m) => [m.path, m.relative]),
    [
      ["/d/sub/c.txt", "sub/c.txt"],
      ["/d/sub2/c.txt", "sub2/c.txt"],
    ],
  );
});

test("a pattern ending in / matches folders only", async () => {
  const matches = await expandRemoteGlob(client, "/d/*/");
  assert.deepEqual(
    matches.map((m) => m.path),
    ["/d/sub", "/d/sub2"],
  );
});

test("a walk past its bound fails with BFTP_ERR_TOO_MANY_ENTRIES and the connection lives", async () => {
  await rejectsWithCode(
    expandRemoteGlob(client, "/wide/**", { maxEntries: 10 }),
    "BFTP_ERR_TOO_MANY_ENTRIES",
  );
  await rejectsWithCode(
    expandRemoteGlob(client, "/**/c.txt", { maxEntries: 5 }),
    "BFTP_ERR_TOO_MANY_ENTRIES",
  );
  const within = await expandRemoteGlob(client, "/wide/f1*", { maxEntries: 31 });
  assert.equal(within.length, 11);
  await client.noop();
});

test("a missing base folder is no match, not an error of its own", async () => {
  await rejectsWithCode(expandRemoteGlob(client, "/nowhere/*.txt"), "BFTP_ERR_NO_MATCH");
});

test("** matches no folder or many, and never enters a hidden one unless named", async () => {
  const deep = await expandRemoteGlob(client, "/d/**/c.txt");
  assert.deepEqual(
    deep.map((m) => m.relative),
    ["sub/c.txt", "sub2/c.txt"],
  );
  const zero = await expandRemoteGlob(client, "/d/**/a.txt");
  assert.deepEqual(
    zero.map((m) => m.relative),
    ["a.txt"],
  );
  const hidden = await expandRemoteGlob(client, "/d/.hidden/**");
  assert.deepEqual(
    hidden.map((m) => m.path),
    ["/d/.hidden/c.txt"],
  );
  const dotted = await expandRemoteGlob(client, "/d/.*/c.txt");
  assert.deepEqual(
    dotted.map((m) => m.path),
    ["/d/.hidden/c.txt"],
  );
});

test("an escaped bracket is plain while the rest of the pattern still globs", async () => {
  const escaped = await expandRemoteGlob(client, "/d/x\\[1\\]*");
  assert.deepEqual(
    escaped.map((m) => m.path),
    ["/d/x[1].txt"],
  );
  const klass = await expandRemoteGlob(client, "/d/x[1]*");
  assert.deepEqual(
    klass.map((m) => m.path),
    ["/d/x1.txt"],
  );
});
