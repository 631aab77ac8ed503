// Issue 5: the server remembers whole-file checksums GET computed, keyed by device, inode,
// size and times, and sends a remembered one instead of computing it. A changed file must
// never be answered from the cache, and a file rewritten while it is sent with a remembered
// checksum must end with BFTP_ERR_FILE_CHANGED (issue 11), never with the remembered checksum.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { ChecksumCache } from "../../src/server/checksum-cache.js";
import { BftpServer } from "../../src/server/server.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { crc32 } from "../helpers/protocol-connection.js";

const MiB = 1024 * 1024;

let base: string;
let root: string;
let server: BftpServer;
let cache: ChecksumCache;
let client: BftpClient;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cache-")));
  root = path.join(base, "root");
  await fs.mkdir(root);
  // A negative racy window lets files written just now be remembered, so tests need not wait.
  cache = new ChecksumCache({ racyMs: -60_000 });
  server = await BftpServer.start({ root, port: 0, checksumCache: cache });
  client = await BftpClient.connect({ host: "127.0.0.1", port: server.address().port });
});

after(async () => {
  await client.close();
  await server.close();
  await fs.rm(base, { recursive: true, force: true });
});

/** A Writable that collects what it is given. */
function collector(): Writable & { data: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  return Object.assign(sink, { data: () => Buffer.concat(parts) });
}

test("a remembered checksum is what the trailer carries (a wrong one is caught by the client)", async () => {
  const file = path.join(root, "planted.bin");
  await fs.writeFile(file, randomBytes(2 * MiB));
  cache.remember(await fs.stat(file, { bigint: true }), "crc32", "deadbeef", Date.now());
  await rejectsWithCode(client.download("/planted.bin", collector()), "BFTP_ERR_CHECKSUM_MISMATCH");
});

test("a whole-file GET is remembered and a second GET of the unchanged file is verified", async () => {
  const data = randomBytes(3 * MiB + 7);
  await fs.writeFile(path.join(root, "same.bin"), data);
  const first = await client.download("/same.bin", collector());
  assert.equal(first.checksum.value, crc32(data));
  assert.equal(
    cache.lookup(await fs.stat(path.join(root, "same.bin"), { bigint: true }), "crc32"),
    crc32(data),
  );
  const sink = collector();
  const second = await client.download("/same.bin", sink);
  assert.equal(second.checksum.value, crc32(data));
  assert.ok(sink.data().equals(data));
});

test("a file changed in place, resized or replaced is never answered from the cache", async () => {
  const file = path.join(root, "changing.bin");
  await fs.writeFile(file, randomBytes(2 * MiB));
  await client.download("/changing.bin", collector()); // remembered
  const changes: (() => Promise<Buffer>)[] = [
    async () => {
      const next = randomBytes(2 * MiB); // same size, new bytes: the times change
      await fs.writeFile(file, next);
      return next;
    },
    async () => {
      const more = randomBytes(100);
      await fs.appendFile(file, more);
      return fs.readFile(file);
    },
    async () => {
      const next = randomBytes(2 * MiB);
      await fs.writeFile(`${file}.new`, next);
      await fs.rename(`${file}.new`, file); // a new inode
      return next;
    },
  ];
  for (const change of changes) {
    const expected = await change();
    const sink = collector();
    const result = await client.download("/changing.bin", sink);
    assert.equal(result.checksum.value, crc32(expected));
    assert.ok(sink.data().equals(expected));
  }
});

test("a file rewritten in place while it is sent with a remembered checksum fails the download", async () => {
  const size = 32 * MiB; // far more than the socket buffers and the server's read-ahead hold
  const file = path.join(root, "torn.bin");
  await fs.writeFile(file, randomBytes(size));
  await client.download("/torn.bin", collector()); // remembered
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const state = { waiting: true };
  const slow = new Writable({
    write(_chunk: Buffer, _encoding, done) {
      if (!state.waiting) {
        done();
        return;
      }
      state.waiting = false;
      held.then(() => {
        done();
      }, done);
    },
  });
  const download = client.download("/torn.bin", slow);
  while (state.waiting) await new Promise((resolve) => setImmediate(resolve)); // bytes arrived
  const handle = await fs.open(file, "r+");
  await handle.write(randomBytes(MiB), 0, MiB, size - MiB); // the tail, not yet read
  await handle.close();
  release();
  await rejectsWithCode(download, "BFTP_ERR_FILE_CHANGED");
});

test("the cache forgets the least recently used file and skips small and recent files", async () => {
  const statOf = async (name: string, size: number): Promise<BigIntStats> => {
    const file = path.join(root, name);
    await fs.writeFile(file, randomBytes(size));
    return fs.stat(file, { bigint: true });
  };
  const big = await statOf("unit.bin", MiB);
  const recent = new ChecksumCache(); // default: files changed in the last 2 s are not kept
  recent.remember(big, "crc32", "00000001", Date.now());
  assert.equal(recent.size, 0);
  const tiny = new ChecksumCache({ racyMs: -60_000 }); // default minimum: 1 MiB
  tiny.remember(await statOf("tiny.bin", 10), "crc32", "00000001", Date.now());
  assert.equal(tiny.size, 0);
  const two = new ChecksumCache({ entries: 2, racyMs: -60_000, minSize: 0 });
  const [a, b, c] = [await statOf("a", 1), await statOf("b", 1), await statOf("c", 1)];
  two.remember(a, "crc32", "a", Date.now());
  two.remember(b, "crc32", "b", Date.now());
  assert.equal(two.lookup(a, "crc32"), "a"); // a is now the most recent
  two.remember(c, "crc32", "c", Date.now());
  assert.equal(two.lookup(b, "crc32"), undefined);
  assert.equal(two.lookup(a, "crc32"), "a");
  assert.equal(two.lookup(a, "sha256"), undefined); // per algorithm
});
