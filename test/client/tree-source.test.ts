// The client's PUTTREE records (src/client/tree-source.ts): a tree walked into records the
// decoder reads back, and a file that shrinks while it is sent ends with an error E and is
// still counted as sent, so its R (the server's echo) is matched and reported as ours.
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { TreeSource, type SentFile } from "../../src/client/tree-source.js";
import { TreeDecoder, type TreeEvent } from "../../src/protocol/tree-decoder.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";

const MAX_CHUNK = 1024;
const base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-tree-source-"));
after(() => fs.rm(base, { recursive: true, force: true }));

function decode(bytes: Buffer): TreeEvent[] {
  const decoder = new TreeDecoder({
    maxChunk: MAX_CHUNK,
    maxTrailer: 8192,
    alg: "crc32",
    errorCode: "BFTP_ERR_PROTOCOL",
  });
  const events = decoder.push(bytes);
  assert.equal(decoder.done, true);
  return events;
}

test("a tree becomes F, H D E records in walk order, every file counted as sent", async () => {
  const dir = path.join(base, "tree");
  await fs.mkdir(path.join(dir, "sub"), { recursive: true });
  await fs.writeFile(path.join(dir, "a.txt"), "alpha");
  await fs.writeFile(path.join(dir, "sub", "b.bin"), Buffer.alloc(3 * MAX_CHUNK, 7));
  const source = new TreeSource(dir, { alg: "crc32", maxChunk: MAX_CHUNK });
  const out = new TreeEncoder(MAX_CHUNK);
  const sent: SentFile[] = [];
  while (!source.done) sent.push(...source.fill(out, 64 * 1024));
  const events = decode(Buffer.concat([out.take(), out.finish()]));
  const files = events.filter((e) => e.type === "file").map((e) => e.path);
  assert.deepEqual(files, ["a.txt", "sub/b.bin"]);
  assert.deepEqual(
    events.filter((e) => e.type === "folder").map((e) => e.path),
    ["sub"],
  );
  const ends = events.filter((e) => e.type === "end");
  assert.deepEqual(
    ends.map((e) => [e.path, e.error]),
    [
      ["a.txt", undefined],
      ["sub/b.bin", undefined],
    ],
  );
  assert.deepEqual(
    sent.map((s) => [s.rel, s.size, s.error]),
    [
      ["a.txt", 5, undefined],
      ["sub/b.bin", 3 * MAX_CHUNK, undefined],
    ],
  );
  assert.equal(source.skipped, 0);
});

test("a large file cut short while sent: an error E, and sent with its local error", async () => {
  const dir = path.join(base, "shrinks");
  await fs.mkdir(dir);
  const file = path.join(dir, "big.bin");
  await fs.writeFile(file, Buffer.alloc(4 * MAX_CHUNK, 1));
  await fs.writeFile(path.join(dir, "next.txt"), "after");
  const source = new TreeSource(dir, { alg: "crc32", maxChunk: MAX_CHUNK });
  const out = new TreeEncoder(MAX_CHUNK);
  const sent: SentFile[] = [];
  // A budget of one byte, taken after each call, builds one step at a time: the head, then
  // one frame of the large file per call.
  const built: Buffer[] = [];
  let steps = 0;
  while (!source.done && steps++ < 1000) {
    sent.push(...source.fill(out, 1));
    built.push(out.take());
    if (steps === 2) await fs.truncate(file, MAX_CHUNK); // after the head and one frame
  }
  assert.equal(source.done, true);
  const events = decode(Buffer.concat([...built, out.finish()]));
  const ends = events.filter((e) => e.type === "end");
  assert.deepEqual(
    ends.map((e) => [e.path, e.error?.code]),
    [
      ["big.bin", "BFTP_ERR_INTERNAL"], // no local code or path crosses the wire
      ["next.txt", undefined],
    ],
  );
  assert.deepEqual(
    sent.map((s) => [s.rel, s.error?.code]),
    [
      ["big.bin", "BFTP_ERR_LOCAL_FILE"],
      ["next.txt", undefined],
    ],
  );
});
