// PUTTREE through the client library (PROTOCOL.md §8.14, issue 12): `uploadTree` sends a
// whole tree in one stream when the server announces "puttree"; every file arrives checked,
// with its mtime, empty folders included; links are skipped, never followed; an existing file
// fails alone with EXISTS; the per-file path gives the same tree.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { uploadTree } from "../../src/client/tree.js";
import { exactSeconds } from "../../src/exact-seconds.js";
import { startServer, stagedUploads, type TestServer } from "../helpers/bftp-server.js";

let srv: TestServer;
let local: string;
const MTIME = new Date(Date.UTC(2025, 4, 6, 7, 8, 9, 123));

before(async () => {
  srv = await startServer();
  local = await fs.mkdtemp(path.join(srv.outside, "..", "local-"));
  await fs.mkdir(path.join(local, "sub/deeper"), { recursive: true });
  await fs.mkdir(path.join(local, "empty"));
  await fs.writeFile(path.join(local, "a.txt"), "alpha\n");
  await fs.writeFile(path.join(local, "zero"), "");
  await fs.writeFile(path.join(local, "sub/b.bin"), randomBytes(70_000));
  await fs.writeFile(path.join(local, "sub/deeper/big.bin"), randomBytes(3 * 1024 * 1024 + 5));
  for (let i = 0; i < 300; i++) {
    await fs.writeFile(path.join(local, `sub/f${i}.txt`), `file ${i}\n`.repeat(i));
  }
  for (const file of ["a.txt", "sub/b.bin", "sub/deeper/big.bin"]) {
    // In exact seconds: a Date is stored a microsecond short of its millisecond.
    const seconds = exactSeconds(MTIME.getTime());
    await fs.utimes(path.join(local, file), seconds, seconds);
  }
  await fs.writeFile(path.join(srv.outside, "secret.txt"), "outside\n");
  await fs.symlink(path.join(srv.outside, "secret.txt"), path.join(local, "link.txt"));
  await fs.symlink(srv.outside, path.join(local, "linkdir"));
});

after(async () => {
  await srv.stop();
});

async function connect(): Promise<BftpClient> {
  return BftpClient.connect({ host: "127.0.0.1", port: srv.port });
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

test("a tree goes up in one PUTTREE: every file, its bytes and mtime; links skipped", async () => {
  const client = await connect();
  try {
    assert.equal(client.offers("puttree"), true);
    const done: string[] = [];
    const warnings: string[] = [];
    const result = await uploadTree(client, local, "/one/copy", {
      onFile: (f) => done.push(f.path),
      onWarning: (w) => warnings.push(w),
    });
    assert.deepEqual(result.failed, []);
    assert.equal(result.files.length, 304);
    assert.equal(done.length, 304);
    assert.equal(result.skipped, 2);
    assert.equal(warnings.length, 2);
    assert.ok(done.includes("/one/copy/sub/deeper/big.bin"));
    assert.deepEqual(await snapshot(path.join(srv.root, "one/copy")), await snapshot(local));
    assert.ok((await fs.stat(path.join(srv.root, "one/copy/empty"))).isDirectory());
    const stamps = await fs.stat(path.join(srv.root, "one/copy/sub/deeper/big.bin"), {
      bigint: true,
    });
    assert.equal(stamps.mtimeNs / 1_000_000n, BigInt(MTIME.getTime()));
    await assert.rejects(fs.lstat(path.join(srv.root, "one/copy/link.txt")), { code: "ENOENT" });
    await assert.rejects(fs.lstat(path.join(srv.root, "one/copy/linkdir")), { code: "ENOENT" });
    assert.deepEqual(stagedUploads(srv), []);
    // The connection stays usable after the tree.
    assert.equal(await client.pwd(), "/");
  } finally {
    await client.close();
  }
});

test("existing files fail alone with EXISTS; overwrite replaces them", async () => {
  const client = await connect();
  try {
    await fs.mkdir(path.join(srv.root, "two/sub"), { recursive: true });
    await fs.writeFile(path.join(srv.root, "two/a.txt"), "old");
    await fs.writeFile(path.join(srv.root, "two/sub/b.bin"), "old");
    const first = await uploadTree(client, local, "/two");
    assert.deepEqual(first.failed.map((f) => [f.path, f.error.code]).sort(), [
      ["/two/a.txt", "BFTP_ERR_EXISTS"],
      ["/two/sub/b.bin", "BFTP_ERR_EXISTS"],
    ]);
    assert.equal(first.files.length, 302);
    assert.equal(await fs.readFile(path.join(srv.root, "two/a.txt"), "utf8"), "old");
    const second = await uploadTree(client, local, "/two", { overwrite: true });
    assert.deepEqual(second.failed, []);
    assert.deepEqual(await snapshot(path.join(srv.root, "two")), await snapshot(local));
  } finally {
    await client.close();
  }
});

test("perFile gives the same tree with one PUT per file", async () => {
  const client = await connect();
  try {
    const result = await uploadTree(client, local, "/three", { perFile: true });
    assert.deepEqual(result.failed, []);
    assert.equal(result.files.length, 304);
    assert.deepEqual(await snapshot(path.join(srv.root, "three")), await snapshot(local));
  } finally {
    await client.close();
  }
});

test("with sha256 the files are checked with it", async () => {
  const client = await connect();
  try {
    const result = await uploadTree(client, path.join(local, "sub"), "/four", {
      checksum: "sha256",
    });
    assert.deepEqual(result.failed, []);
    const big = result.files.find((f) => f.path === "/four/deeper/big.bin");
    assert.equal(big?.checksum.alg, "sha256");
    assert.equal(big.checksum.value.length, 64);
  } finally {
    await client.close();
  }
});

test("a tree of more folders than the server keeps open arrives whole, each folder reopened by name", async () => {
  // 200 folders (the server keeps 64 open, tree-upload-folders.ts, and closes the oldest
  // once its batch is committed), and a file too large for a batch among them.
  const wide = await fs.mkdtemp(path.join(srv.outside, "..", "wide-"));
  for (let i = 0; i < 100; i++) {
    const dir = path.join(wide, `d${i}`, "inner");
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "f.txt"), `folder ${i}\n`);
    await fs.writeFile(path.join(wide, `d${i}`, "g.txt"), `top ${i}\n`);
  }
  await fs.writeFile(path.join(wide, "d7", "large.bin"), randomBytes(600_000));
  const client = await connect();
  try {
    const result = await uploadTree(client, wide, "/wide");
    assert.deepEqual(result.failed, []);
    assert.equal(result.files.length, 201);
    assert.deepEqual(await snapshot(path.join(srv.root, "wide")), await snapshot(wide));
    assert.deepEqual(stagedUploads(srv), []);
  } finally {
    await client.close();
  }
});
