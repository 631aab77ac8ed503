// PUTTREE's offer through the client library (PROTOCOL.md §8.14, issues 12 item 2 and 13 item
// 1): `uploadTree` with `resume` offers the local files, leaves out those the server holds
// complete and reports them as already complete (nothing moved, offset = size), so a re-run
// sends only what is missing. A file that differs is still EXISTS without `overwrite`, and
// replaced with it; with SHA-256 the content decides, not the mtime. The client checks the
// server's held count against the list it read (it would throw BFTP_ERR_PROTOCOL otherwise).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import type { TransferResult } from "../../src/client/download.js";
import { uploadTree, type BatchResult } from "../../src/client/tree.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

let srv: TestServer;
let local: string;
const NAMES = [
  "a.txt",
  "zero",
  ...Array.from({ length: 12 }, (_, i) => `d${i % 3}/f${i}.bin`),
  "big/large.bin",
];

before(async () => {
  srv = await startServer();
  local = await fs.mkdtemp(path.join(srv.outside, "..", "local-"));
  for (const name of NAMES) {
    const size = name === "zero" ? 0 : name === "big/large.bin" ? 2_500_000 : 3000;
    await fs.mkdir(path.dirname(path.join(local, name)), { recursive: true });
    await fs.writeFile(path.join(local, name), randomBytes(size));
  }
});

after(async () => {
  await srv.stop();
});

/** One uploadTree on a fresh connection. */
async function upload(
  remote: string,
  options: Parameters<typeof uploadTree>[3] = {},
): Promise<BatchResult> {
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  try {
    return await uploadTree(client, local, remote, options);
  } finally {
    await client.close();
  }
}

/** The paths of a result's files, relative to `remote`: sent, and held (nothing moved). */
function split(result: BatchResult, remote: string): { sent: string[]; held: string[] } {
  const rel = (f: TransferResult): string => path.posix.relative(remote, f.path);
  const held = (f: TransferResult): boolean => f.bytes === 0 && f.offset === f.size;
  return {
    sent: result.files
      .filter((f) => !held(f))
      .map(rel)
      .sort(),
    held: result.files.filter(held).map(rel).sort(),
  };
}

async function assertSameTree(remote: string): Promise<void> {
  for (const name of NAMES) {
    assert.deepEqual(
      await fs.readFile(path.join(srv.root, remote, name)),
      await fs.readFile(path.join(local, name)),
      name,
    );
  }
}

test("a resumed re-run sends only the missing files and reports the others held", async () => {
  const first = await upload("/rerun");
  assert.equal(first.files.length, NAMES.length);
  const gone = ["d1/f4.bin", "big/large.bin", "a.txt"];
  for (const name of gone) await fs.rm(path.join(srv.root, "rerun", name));
  const again = await upload("/rerun", { resume: true });
  assert.deepEqual(again.failed, []);
  const { sent, held } = split(again, "/rerun");
  // The empty file has no size to tell "held" from "sent" by: it is held (offset 0 = size 0).
  assert.deepEqual(sent, [...gone].sort());
  assert.deepEqual(held, NAMES.filter((n) => !gone.includes(n)).sort());
  await assertSameTree("/rerun");
});

test("a file that differs fails EXISTS without overwrite, and is replaced with it", async () => {
  await upload("/differs");
  const changed = path.join(srv.root, "differs", "d2/f5.bin");
  await fs.writeFile(changed, randomBytes(3000)); // same size, new bytes, new mtime
  const refused = await upload("/differs", { resume: true });
  assert.deepEqual(
    refused.failed.map((f) => [path.posix.relative("/differs", f.path), f.error.code]),
    [["d2/f5.bin", "BFTP_ERR_EXISTS"]],
  );
  assert.deepEqual(split(refused, "/differs").sent, []);
  const replaced = await upload("/differs", { resume: true, overwrite: true });
  assert.deepEqual(replaced.failed, []);
  assert.deepEqual(split(replaced, "/differs").sent, ["d2/f5.bin"]);
  assert.equal(split(replaced, "/differs").held.length, NAMES.length - 1);
  await assertSameTree("/differs");
});

test("with SHA-256, a file with the same bytes is held whatever its mtime", async () => {
  await upload("/hashed");
  const touched = path.join(srv.root, "hashed", "d0/f3.bin");
  await fs.utimes(touched, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
  const byMtime = await upload("/hashed", { resume: true });
  assert.deepEqual(
    byMtime.failed.map((f) => f.error.code),
    ["BFTP_ERR_EXISTS"],
    "by size and mtime it differs",
  );
  const byContent = await upload("/hashed", { resume: true, checksum: "sha256" });
  assert.deepEqual(byContent.failed, []);
  assert.deepEqual(split(byContent, "/hashed").held, [...NAMES].sort());
});

test("without resume nothing is offered: every file is sent and existing ones fail", async () => {
  await upload("/plain");
  const again = await upload("/plain");
  assert.equal(again.failed.length, NAMES.length);
  assert.ok(again.failed.every((f) => f.error.code === "BFTP_ERR_EXISTS"));
});
