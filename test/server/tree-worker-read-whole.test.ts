// Issue 12, GETTREE's read path: the tree worker reads a small file with one read and one
// fstat when its change time is older than the racy window (RACY_MS before the open), and
// falls back to stamps before and after the read otherwise. Both paths must build the same
// records: every file's bytes, size and modification time, the big-file hand-back at the
// same size, and the same skips for what is not a regular file (a FIFO, a folder, a link
// swapped in after the listing). The worker is driven directly through FsPool, and its
// records are read back with the client's decoder, fed whole and byte by byte.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, test } from "node:test";
import { TreeDecoder, type TreeEvent } from "../../src/protocol/tree-decoder.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { RACY_MS } from "../../src/server/file-version.js";
import { FsPool } from "../../src/server/fs-pool.js";
import type { DirListing, ReadFilesResult, ReadItem } from "../../src/server/tree-jobs.js";

const MAX_CHUNK = 64 * 1024;
const BIG_AT = 256 * 1024;
const MTIME = new Date(Date.UTC(2025, 4, 6, 7, 8, 9, 123));

let base: string;
let pool: FsPool;
let folder: DirListing;

/** The files of the folder, by name: contents chosen to hit every size boundary. */
const FILES: Record<string, Buffer> = {
  "empty.txt": Buffer.alloc(0),
  "one.txt": Buffer.from("x"),
  "small.bin": randomBytes(4096),
  "chunk-less-one.bin": randomBytes(MAX_CHUNK - 2), // one D frame: type byte + bytes
  "chunk.bin": randomBytes(MAX_CHUNK), // two D frames
  "at-big.bin": randomBytes(BIG_AT), // the largest read whole
};
const BIG = { name: "over-big.bin", bytes: randomBytes(BIG_AT + 1) };

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-read-whole-")));
  for (const [name, bytes] of Object.entries(FILES)) {
    await fs.writeFile(path.join(base, name), bytes);
    await fs.utimes(path.join(base, name), MTIME, MTIME);
  }
  await fs.writeFile(path.join(base, BIG.name), BIG.bytes);
  await fs.mkdir(path.join(base, "a-folder"));
  await fs.symlink(path.join(base, "one.txt"), path.join(base, "a-link"));
  execFileSync("mkfifo", [path.join(base, "a-fifo")]);
  pool = new FsPool({ size: 1 });
  folder = await pool.run<DirListing>(
    { op: "openDir", parent: base, name: null, virtual: "/t" },
    10_000,
  );
  assert.equal(folder.error, undefined);
});

after(async () => {
  await pool.close();
  await fs.rm(base, { recursive: true, force: true });
});

/** Waits, under a deadline, until every file's change time is older than the racy window. */
async function settled(names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (let i = 0; i < 1000; i++) {
    let newest = 0;
    for (const name of names) {
      const stats = await fs.lstat(path.join(base, name), { bigint: true });
      newest = Math.max(newest, Number(stats.ctimeNs / 1_000_000n));
    }
    if (Date.now() - newest > RACY_MS) return;
    assert.ok(Date.now() < deadline, "the change times never left the racy window");
    await new Promise((resolve) => setTimeout(resolve, RACY_MS - (Date.now() - newest) + 1));
  }
}

async function readFiles(items: readonly ReadItem[], probe = false): Promise<ReadFilesResult> {
  return pool.run<ReadFilesResult>(
    {
      ...(probe ? { probe } : {}),
      op: "readFiles",
      dir: base,
      virtualDir: "/t",
      items,
      alg: "crc32",
      maxChunk: MAX_CHUNK,
      budget: 4 * 1024 * 1024,
      bigAt: BIG_AT,
      crc: 0,
    },
    10_000,
  );
}

/** The batch's records as decoder events (data joined per file), fed whole or byte by byte. */
function decode(result: ReadFilesResult, byteByByte: boolean): TreeEvent[] {
  const trailer = new TreeEncoder(MAX_CHUNK, result.crc).finish();
  const stream = Buffer.concat([Buffer.from(result.bytes), trailer]);
  const decoder = new TreeDecoder({
    maxChunk: MAX_CHUNK,
    maxTrailer: 4096,
    alg: "crc32",
    errorCode: "BFTP_ERR_PROTOCOL",
  });
  const events: TreeEvent[] = [];
  const pieces = byteByByte
    ? Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))
    : [stream];
  for (const piece of pieces) {
    for (const event of decoder.push(piece)) {
      const last = events.at(-1);
      if (event.type === "data" && last?.type === "data") {
        events[events.length - 1] = {
          type: "data",
          bytes: Buffer.concat([last.bytes, event.bytes]),
        };
      } else
        events.push(event.type === "data" ? { ...event, bytes: Buffer.from(event.bytes) } : event);
    }
  }
  assert.equal(decoder.done, true);
  return events;
}

function expected(name: string, bytes: Buffer, mtime: number): TreeEvent[] {
  const checksum = zlib.crc32(bytes).toString(16).padStart(8, "0");
  return [
    { type: "file", path: name, size: bytes.length, mtime },
    ...(bytes.length > 0 ? [{ type: "data" as const, bytes }] : []),
    { type: "end", path: name, checksum },
    // (the trailer of the test's stream)
  ];
}

/** The modification time the server must send: the file's own, in whole milliseconds. */
async function mtimeOf(name: string): Promise<number> {
  return Number((await fs.stat(path.join(base, name), { bigint: true })).mtimeNs / 1_000_000n);
}

function itemsOf(names: readonly string[]): ReadItem[] {
  return names.map((name) => ({ name, rel: name }));
}

for (const when of ["settled", "just written"] as const) {
  test(`small files ${when}: bytes, sizes and modification times as on disk`, async () => {
    const names = Object.keys(FILES);
    if (when === "just written") {
      // A fresh change time sends the worker the long way (stamps before and after): the
      // first file at least, whose wait for its stamps to settle lets the later ones settle.
      for (const name of names) await fs.utimes(path.join(base, name), MTIME, MTIME);
    } else await settled(names);
    const result = await readFiles(itemsOf(names));
    assert.equal(result.consumed, names.length);
    assert.equal(result.files, names.length);
    assert.equal(result.big, undefined);
    const want: unknown[] = [];
    for (const name of names)
      want.push(...expected(name, FILES[name] as Buffer, await mtimeOf(name)));
    want.push({ type: "trailer" });
    for (const byteByByte of [false, true]) {
      assert.deepEqual(decode(result, byteByByte), want);
    }
  });
}

test("a file over bigAt is handed back open, read or not, with its stamps", async () => {
  await settled([BIG.name]);
  const result = await readFiles(itemsOf(["one.txt", BIG.name, "small.bin"]));
  assert.equal(result.consumed, 2); // the batch stops at the big file
  assert.equal(result.files, 1);
  const big = result.big;
  assert.ok(big !== undefined);
  try {
    assert.equal(big.rel, BIG.name);
    assert.equal(big.size, BIG.bytes.length);
    const handle = await fs.open(`/proc/self/fd/${big.fd}`, "r");
    try {
      const { bytesRead, buffer } = await handle.read(
        Buffer.alloc(BIG.bytes.length),
        0,
        BIG.bytes.length,
        0,
      );
      assert.equal(bytesRead, BIG.bytes.length);
      assert.deepEqual(buffer, BIG.bytes);
    } finally {
      await handle.close();
    }
  } finally {
    await pool.run({ op: "close", fds: [big.fd] }, 10_000);
  }
  assert.deepEqual(decode(result, false), [
    ...expected("one.txt", FILES["one.txt"] as Buffer, await mtimeOf("one.txt")),
    { type: "trailer" },
  ]);
});

test("what is not a regular file when opened is skipped as before: FIFO, folder, link", async () => {
  // As if each had been swapped in after the listing said "file".
  await settled(["a-fifo", "a-folder"]);
  const result = await readFiles(itemsOf(["a-fifo", "a-folder", "a-link", "one.txt"]));
  assert.equal(result.consumed, 4);
  assert.equal(result.files, 1);
  assert.deepEqual(decode(result, false), [
    { type: "skip", path: "a-fifo", kind: "other" },
    { type: "skip", path: "a-folder", kind: "other" },
    { type: "skip", path: "a-link", kind: "symlink" },
    ...expected("one.txt", FILES["one.txt"] as Buffer, await mtimeOf("one.txt")),
    { type: "trailer" },
  ]);
});

test("probed names (the list form): each looked at as opened, a folder ends the batch", async () => {
  // GETTREE's list form hands the worker the names the list gave, with no listing first
  // (tree-sender.ts, #listRun): a missing name is reported, a FIFO and a socket are skipped
  // unread, a link is refused, and the batch stops before a folder for the main thread.
  const socketPath = path.join(base, "a-socket");
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    await settled(["one.txt", "small.bin", "empty.txt"]);
    const names = ["one.txt", "a-fifo", "a-socket", "a-link", "no-such-name", "small.bin"];
    const result = await readFiles(itemsOf([...names, "a-folder", "empty.txt"]), true);
    assert.equal(result.consumed, names.length); // the folder is not consumed
    assert.equal(result.folder, true);
    assert.equal(result.files, 2);
    const events = decode(result, true);
    assert.deepEqual(decode(result, false), events);
    const missing = events.find((e) => e.type === "skip" && e.path === "no-such-name");
    assert.equal(missing?.type === "skip" ? missing.error?.code : undefined, "BFTP_ERR_NOT_FOUND");
    assert.deepEqual(
      events.map((e) => (e.type === "skip" ? { ...e, error: e.error?.code } : e)),
      [
        ...expected("one.txt", FILES["one.txt"] as Buffer, await mtimeOf("one.txt")),
        { type: "skip", path: "a-fifo", kind: "other", error: undefined },
        { type: "skip", path: "a-socket", kind: "other", error: undefined },
        { type: "skip", path: "a-link", kind: "symlink", error: undefined },
        { type: "skip", path: "no-such-name", kind: "other", error: "BFTP_ERR_NOT_FOUND" },
        ...expected("small.bin", FILES["small.bin"] as Buffer, await mtimeOf("small.bin")),
        { type: "trailer" },
      ],
    );
    // What comes after the folder is the next batch's, read as any other.
    const rest = await readFiles(itemsOf(["empty.txt"]), true);
    assert.equal(rest.folder, undefined);
    assert.deepEqual(decode(rest, false), [
      ...expected("empty.txt", FILES["empty.txt"] as Buffer, await mtimeOf("empty.txt")),
      { type: "trailer" },
    ]);
    // Unprobed (a listing's files), a vanished name is left out and a folder skipped.
    const walked = await readFiles(itemsOf(["no-such-name", "a-folder", "one.txt"]));
    assert.equal(walked.folder, undefined);
    assert.deepEqual(decode(walked, false), [
      { type: "skip", path: "a-folder", kind: "other" },
      ...expected("one.txt", FILES["one.txt"] as Buffer, await mtimeOf("one.txt")),
      { type: "trailer" },
    ]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
