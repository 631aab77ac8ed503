// GETTREE through the client library (PROTOCOL.md §8.13, issue 12): a whole tree in one
// stream, checked file by file; links not followed; a file changed while read fails alone;
// a re-run with `resume` fetches only what is missing; per-file GETs give the same tree.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { downloadTree } from "../../src/client/tree.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { hookFileReads } from "../helpers/file-read-hook.js";

let srv: TestServer;
const MTIME = new Date(Date.UTC(2025, 4, 6, 7, 8, 9, 123));

before(async () => {
  srv = await startServer();
  const { root } = srv;
  await fs.mkdir(path.join(root, "tree/sub/deeper"), { recursive: true });
  await fs.mkdir(path.join(root, "tree/empty"));
  await fs.writeFile(path.join(root, "tree/a.txt"), "alpha\n");
  await fs.writeFile(path.join(root, "tree/zero"), "");
  await fs.writeFile(path.join(root, "tree/sub/b.bin"), randomBytes(70_000));
  await fs.writeFile(path.join(root, "tree/sub/deeper/big.bin"), randomBytes(3 * 1024 * 1024 + 5));
  for (let i = 0; i < 300; i++) {
    await fs.writeFile(path.join(root, `tree/sub/f${i}.txt`), `file ${i}\n`.repeat(i));
  }
  for (const file of ["a.txt", "sub/b.bin", "sub/deeper/big.bin"]) {
    await fs.utimes(path.join(root, "tree", file), MTIME, MTIME);
  }
  await fs.writeFile(path.join(srv.outside, "secret.txt"), "outside the root\n");
  await fs.mkdir(path.join(srv.outside, "dir"));
  await fs.writeFile(path.join(srv.outside, "dir/inner.txt"), "outside too\n");
});

after(async () => {
  await srv.stop();
});

async function connect(): Promise<BftpClient> {
  return BftpClient.connect({ host: "127.0.0.1", port: srv.port });
}

async function scratch(): Promise<string> {
  return fs.mkdtemp(path.join(srv.outside, "..", "local-"));
}

/** Every file below `dir`, relative, with its bytes. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full), await fs.readFile(full));
  }
  return files;
}

test("the server announces the tree stream", async () => {
  const client = await connect();
  try {
    assert.ok((client.server["capabilities"] as string[]).includes("tree"));
  } finally {
    await client.close();
  }
});

test("a tree arrives whole: every file identical, folders made, modification times kept", async () => {
  const local = await scratch();
  const client = await connect();
  try {
    const result = await downloadTree(client, "/tree", local);
    assert.deepEqual(result.failed, []);
    assert.equal(result.skipped, 0);
    assert.equal(result.files.length, 304);
  } finally {
    await client.close();
  }
  assert.deepEqual(await snapshot(local), await snapshot(path.join(srv.root, "tree")));
  assert.ok((await fs.stat(path.join(local, "empty"))).isDirectory());
  for (const file of ["a.txt", "sub/b.bin", "sub/deeper/big.bin"]) {
    const ms = async (p: string): Promise<bigint> =>
      (await fs.stat(p, { bigint: true })).mtimeNs / 1_000_000n;
    assert.equal(await ms(path.join(local, file)), await ms(path.join(srv.root, "tree", file)));
  }
  const names = await fs.readdir(local, { recursive: true });
  assert.equal(names.filter((n) => n.endsWith(".bftp-part")).length, 0);
});

test("per-file GETs (perFile) and the stream give the same tree", async () => {
  const streamed = await scratch();
  const perFile = await scratch();
  const client = await connect();
  try {
    await downloadTree(client, "/tree", streamed);
    const result = await downloadTree(client, "/tree", perFile, { perFile: true });
    assert.deepEqual(result.failed, []);
  } finally {
    await client.close();
  }
  assert.deepEqual(await snapshot(streamed), await snapshot(perFile));
});

test("links planted in the served tree are reported, never followed, inside or out", async () => {
  const dir = path.join(srv.root, "linked");
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, "real.txt"), "real\n");
  await fs.symlink(path.join(srv.outside, "secret.txt"), path.join(dir, "to-secret"));
  await fs.symlink(path.join(srv.outside, "dir"), path.join(dir, "to-dir"));
  await fs.symlink("real.txt", path.join(dir, "inside-link"));
  const local = await scratch();
  const warnings: string[] = [];
  const client = await connect();
  try {
    const result = await downloadTree(client, "/linked", local, {
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(result.files.length, 1);
    assert.equal(result.skipped, 3);
    assert.equal(warnings.length, 3);
  } finally {
    await client.close();
  }
  assert.deepEqual([...(await snapshot(local)).keys()], ["real.txt"]);
});

test("a file changed while it is read fails with FILE_CHANGED; the others complete", async () => {
  const dir = path.join(srv.root, "changing");
  await fs.mkdir(dir);
  const big = path.join(dir, "big.bin");
  await fs.writeFile(big, randomBytes(3 * 1024 * 1024));
  await fs.writeFile(path.join(dir, "small.txt"), "small\n");
  // The stamps must be older than the racy window, or the server waits for them to settle.
  const old = new Date(Date.now() - 60_000);
  await fs.utimes(big, old, old);
  const hook = await hookFileReads(path.join(srv.outside, "hook-probe"));
  const local = await scratch();
  const client = await connect();
  try {
    // After the first MiB is read, the file is written to in place.
    hook.arm(() => {
      const fd = openSync(big, "r+");
      writeSync(fd, Buffer.from("changed"), 0, 7, 2 * 1024 * 1024);
      closeSync(fd);
    }, 1024 * 1024);
    const result = await downloadTree(client, "/changing", local);
    assert.equal(hook.fired(), true);
    assert.deepEqual(
      result.failed.map((f) => [f.path, f.error.code]),
      [["/changing/big.bin", "BFTP_ERR_FILE_CHANGED"]],
    );
    assert.deepEqual(
      result.files.map((f) => f.path),
      ["/changing/small.txt"],
    );
  } finally {
    hook.restore();
    await client.close();
  }
  assert.deepEqual([...(await snapshot(local)).keys()], ["small.txt"]);
});

test("a re-run with resume fetches only the missing files", async () => {
  const local = await scratch();
  const client = await connect();
  try {
    await downloadTree(client, "/tree", local);
    await fs.rm(path.join(local, "sub/f7.txt"));
    await fs.rm(path.join(local, "sub/deeper/big.bin"));
    const again = await downloadTree(client, "/tree", local, { resume: true });
    assert.deepEqual(again.failed, []);
    const moved = again.files.filter((f) => f.bytes > 0).map((f) => f.path);
    assert.deepEqual(moved.sort(), ["/tree/sub/deeper/big.bin", "/tree/sub/f7.txt"]);
    assert.equal(again.files.length, 304);
  } finally {
    await client.close();
  }
  assert.deepEqual(await snapshot(local), await snapshot(path.join(srv.root, "tree")));
});

test("without overwrite, existing local files are refused one by one and left alone", async () => {
  const local = await scratch();
  await fs.writeFile(path.join(local, "a.txt"), "mine\n");
  const client = await connect();
  try {
    const result = await downloadTree(client, "/tree", local);
    assert.deepEqual(
      result.failed.map((f) => [f.path, f.error.code]),
      [["/tree/a.txt", "BFTP_ERR_LOCAL_FILE"]],
    );
    assert.equal(result.files.length, 303);
    const replaced = await downloadTree(client, "/tree", local, { overwrite: true });
    assert.deepEqual(replaced.failed, []);
  } finally {
    await client.close();
  }
  assert.equal(await fs.readFile(path.join(local, "a.txt"), "utf8"), "alpha\n");
});

test("a missing folder or a file is refused before any stream; the connection goes on", async () => {
  const client = await connect();
  try {
    await assert.rejects(downloadTree(client, "/nope", await scratch()), {
      code: "BFTP_ERR_NOT_FOUND",
    });
    await assert.rejects(downloadTree(client, "/tree/a.txt", await scratch()), {
      code: "BFTP_ERR_NOT_A_DIRECTORY",
    });
    await client.noop();
  } finally {
    await client.close();
  }
});
