// Acceptance (PROTOCOL.md §2, §8.7): "A 5 GiB sparse file can be
// fetched with GET and its checksum verified (files over 4 GiB)."
//
// The file is sparse: 5 GiB of zeros with a few non-zero bytes planted around the 4 GiB
// boundary and near the end. The download is streamed, never buffered: frame headers are
// read with readExactly(8), payloads with readSome loops, each piece compared with what the
// file must hold there and fed to a running CRC-32 that the trailer must match.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import zlib from "node:zlib";
import { HEX_SIZE_HEADER } from "../../src/wire/index.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";

const GiB = 2 ** 30;
const SIZE = 5 * GiB;
const FOUR_GiB = 2 ** 32;
/** Non-zero bytes at offsets that 32-bit arithmetic would get wrong. */
const PLANTED: ReadonlyArray<readonly [number, Buffer]> = [
  [0, Buffer.from("start of the big file")],
  [FOUR_GiB - 3, Buffer.from("straddles 4 GiB")],
  [FOUR_GiB + 64, Buffer.from("just past 4 GiB")],
  [SIZE - 7, Buffer.from("the end")],
];
const WAIT = { timeout: 30_000 };
/** Generous: about 20 s on an idle 2-core machine, three times that when it is busy. */
const TEST_TIMEOUT = 240_000;

let srv: TestServer;
let skipReason: string | undefined;

before(async () => {
  srv = await startServer();
  skipReason = await plantSparseFile(path.join(srv.root, "big.bin"));
});

after(async () => {
  await srv.stop();
});

/** Creates the sparse file; returns why the test must be skipped, if the disk cannot hold it. */
async function plantSparseFile(file: string): Promise<string | undefined> {
  try {
    await fs.truncate(await touch(file), SIZE);
  } catch (err) {
    return `this file system cannot hold a 5 GiB file: ${String(err)}`;
  }
  const stats = await fs.stat(file);
  const { bavail, bsize } = await fs.statfs(path.dirname(file));
  if (stats.blocks * 512 >= GiB && bavail * bsize < SIZE + GiB) {
    return "this file system does not make sparse files and has no 5 GiB free";
  }
  const handle = await fs.open(file, "r+");
  try {
    for (const [offset, bytes] of PLANTED) await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
  return undefined;
}

async function touch(file: string): Promise<string> {
  await fs.writeFile(file, "");
  return file;
}

/** The byte the file holds at `offset`. */
function expectedAt(offset: number): number {
  for (const [at, bytes] of PLANTED) {
    if (offset >= at && offset < at + bytes.length) return bytes[offset - at] ?? 0;
  }
  return 0;
}

/** Checks `piece`, which the file holds from `offset`: zeros, except where bytes are planted. */
function checkPiece(piece: Buffer, offset: number): void {
  const end = offset + piece.length;
  const planted = PLANTED.filter(([at, bytes]) => at < end && at + bytes.length > offset);
  if (planted.length === 0) {
    assert.ok(isZero(piece), `non-zero bytes in [${offset}, ${end})`);
    return;
  }
  for (let i = 0; i < piece.length; i++) {
    if (piece[i] !== expectedAt(offset + i)) assert.fail(`wrong byte at ${offset + i}`);
  }
}

const ZEROS = Buffer.alloc(1 << 20);
function isZero(piece: Buffer): boolean {
  for (let at = 0; at < piece.length; at += ZEROS.length) {
    const part = piece.subarray(at, at + ZEROS.length);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

/** What a streamed download received. */
interface Streamed {
  readonly reply: Body;
  readonly bytes: number;
  readonly frames: number;
  readonly crc: string;
  readonly trailer: Body;
}

/**
 * GET, streamed: the reply, then data frames read header by header (readExactly(8)) and
 * payload by payload (readSome), checked and summed as they pass; then the trailer.
 */
async function streamGet(conn: ProtocolConnection, fields: object): Promise<Streamed> {
  await conn.send({ op: "GET", path: "/big.bin", ...fields });
  const reply = await conn.reply(WAIT.timeout);
  assert.equal(reply.ok, true, JSON.stringify(reply));
  let offset = reply["offset"] as number;
  let crc = 0;
  let bytes = 0;
  let frames = 0;
  for (;;) {
    const size = HEX_SIZE_HEADER.parse(await conn.reader.readExactly(8, WAIT), 0);
    if (size === 0) break;
    assert.ok(size <= srv.server.limits.maxChunk, `a data frame of ${size} bytes`);
    frames++;
    for (let left = size; left > 0;) {
      const piece = await conn.reader.readSome(left, WAIT);
      checkPiece(piece, offset);
      crc = zlib.crc32(piece, crc);
      offset += piece.length;
      bytes += piece.length;
      left -= piece.length;
    }
  }
  const trailer = await conn.reply(WAIT.timeout);
  return { reply, bytes, frames, crc: crc.toString(16).padStart(8, "0"), trailer };
}

test(
  "a 5 GiB sparse file downloads whole, streamed, with its CRC-32 verified",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    if (skipReason !== undefined) {
      t.skip(skipReason);
      return;
    }
    const conn = await ProtocolConnection.open(srv.port);
    try {
      const got = await streamGet(conn, {});
      assert.equal(got.reply["size"], SIZE, "size is 5 GiB exactly, not wrapped at 32 bits");
      assert.equal(got.reply["length"], SIZE);
      assert.equal(got.reply["offset"], 0);
      assert.equal(got.bytes, SIZE);
      assert.ok(got.frames >= SIZE / srv.server.limits.maxChunk);
      assert.deepEqual(got.trailer, { ok: true, checksum: { alg: "crc32", value: got.crc } });
      const stat = await conn.request({ op: "STAT", path: "/big.bin" });
      assert.equal((stat["entry"] as { size: unknown }).size, SIZE);
    } finally {
      conn.close();
    }
  },
);

test(
  "GET from an offset past 4 GiB returns the bytes planted there",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    if (skipReason !== undefined) {
      t.skip(skipReason);
      return;
    }
    const conn = await ProtocolConnection.open(srv.port);
    try {
      for (const [offset, bytes] of PLANTED.filter(([at]) => at > FOUR_GiB - 8)) {
        const ranged = await conn.get("/big.bin", { offset, length: bytes.length });
        assert.equal(ranged.reply["size"], SIZE);
        assert.equal(ranged.reply["offset"], offset);
        assert.equal(ranged.reply["length"], bytes.length);
        assert.ok(ranged.data?.equals(bytes), `at ${offset}: ${String(ranged.data)}`);
        assert.equal(
          (ranged.trailer?.["checksum"] as { value: unknown }).value,
          zlib.crc32(bytes).toString(16).padStart(8, "0"),
        );
      }
      // The rest of the file from an odd offset past 4 GiB: the default length is 64-bit too.
      const from = SIZE - 16 * 2 ** 20 - 1;
      const tail = await streamGet(conn, { offset: from });
      assert.equal(tail.reply["length"], SIZE - from);
      assert.equal(tail.bytes, SIZE - from);
      assert.deepEqual(tail.trailer, { ok: true, checksum: { alg: "crc32", value: tail.crc } });
      // HASH of a range past 4 GiB: the SHA-256 of the planted bytes.
      const [offset, bytes] = PLANTED[2] ?? [0, Buffer.alloc(0)];
      const hash = await conn.request({
        op: "HASH",
        path: "/big.bin",
        offset,
        length: bytes.length,
      });
      assert.equal(hash["value"], createHash("sha256").update(bytes).digest("hex"));
      // An offset past the end is refused.
      const past = await conn.request({ op: "GET", path: "/big.bin", offset: SIZE + 1 });
      assert.equal(past.error?.code, "BFTP_ERR_BAD_RANGE");
    } finally {
      conn.close();
    }
  },
);
