import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { test } from "node:test";
import { localOffer, readHeld } from "../../src/client/tree-offer.js";
import { isBftpError } from "../../src/errors.js";
import { HELD_FRAME_BYTES, heldFrames } from "../../src/protocol/held-list.js";
import { StreamReader, encodeFrame } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { readableFrom, splits } from "../helpers/feed.js";

// PUTTREE's held list (PROTOCOL.md §8.14) as the client reads it: frames of JSON arrays of
// offered paths, the terminator, a CRC-32 trailer. Fed whole, byte by byte and at every split;
// a list that breaks the rules is BFTP_ERR_PROTOCOL (the connection cannot go on), the server's
// error trailer is its own code; and the server's encoder splits long lists into frames the
// reader takes back. The offer itself names the local regular files as the records will,
// links left out.

const LIMITS = { maxChunk: 1 << 20, maxTrailer: 1 << 20, timeout: 5_000 };
const OFFERED = new Set(["a.txt", "sub/b.txt", "c d/é.txt", "e.txt"]);

/** A held phase of these payloads (raw strings or arrays), with a correct or given trailer. */
function phase(payloads: readonly unknown[], trailer?: object): Buffer {
  const bodies = payloads.map((p) => Buffer.from(typeof p === "string" ? p : JSON.stringify(p)));
  const sum = zlib.crc32(Buffer.concat(bodies)).toString(16).padStart(8, "0");
  return Buffer.concat([
    ...bodies.map((b) => encodeFrame(b)),
    Buffer.from("00000000"),
    encodeFrame(JSON.stringify(trailer ?? { ok: true, checksum: { alg: "crc32", value: sum } })),
  ]);
}

function read(pieces: readonly Buffer[]): Promise<Set<string>> {
  return readHeld(new StreamReader(readableFrom(pieces)), OFFERED, LIMITS);
}

test("a held list of two frames (one empty) at every split point", async () => {
  const bytes = phase([["a.txt", "c d/é.txt"], [], ["sub/b.txt"]]);
  for (const { name, pieces } of splits(bytes)) {
    assert.deepEqual([...(await read(pieces))].sort(), ["a.txt", "c d/é.txt", "sub/b.txt"], name);
  }
});

test("an empty held list, and one that is only [] frames, hold nothing", async () => {
  for (const bytes of [phase([]), phase([[], []])]) {
    for (const { name, pieces } of splits(bytes)) {
      assert.deepEqual([...(await read(pieces))], [], name);
    }
  }
});

test("a path not offered, a path twice, or a frame that is not an array of paths is a protocol error", async () => {
  for (const payloads of [
    [["nope.txt"]],
    [["a.txt"], ["a.txt"]],
    [["a.txt", "a.txt"]],
    ["{not json"],
    [{ path: "a.txt" }],
    [[1]],
    [["../a.txt"]],
  ]) {
    const bytes = phase(payloads);
    for (const { name, pieces } of splits(bytes)) {
      const err = await rejectsWithCode(read(pieces), "BFTP_ERR_PROTOCOL");
      assert.ok(isBftpError(err) && err.connectionUsable === false, name);
    }
  }
});

test("a trailer whose checksum does not match is a protocol error", async () => {
  const bytes = phase([["a.txt"]], { ok: true, checksum: { alg: "crc32", value: "00000000" } });
  for (const { pieces } of splits(bytes)) await rejectsWithCode(read(pieces), "BFTP_ERR_PROTOCOL");
});

test("the server's error trailer is its own code, and the connection stays usable", async () => {
  const error = { code: "BFTP_ERR_TIMEOUT", status: 408, message: "a batch missed its deadline" };
  const bytes = phase([["a.txt"]], { ok: false, error });
  for (const { name, pieces } of splits(bytes)) {
    const err = await rejectsWithCode(read(pieces), "BFTP_ERR_TIMEOUT");
    assert.ok(isBftpError(err) && err.connectionUsable !== false, name);
  }
});

test("heldFrames: [] for none, and a long list in frames of at most 64 KiB that read back whole", async () => {
  assert.equal(Buffer.concat(heldFrames([])).toString(), "00000002[]");
  const many = Array.from({ length: 5000 }, (_, i) => `folder-${i}/${"n".repeat(40)}-${i}.bin`);
  const frames = heldFrames(many);
  const payloads = frames.filter((_, i) => i % 2 === 1);
  assert.ok(payloads.length > 1, "one frame for 300 KiB of paths");
  for (const p of payloads) assert.ok(p.length <= HELD_FRAME_BYTES, `a frame of ${p.length}`);
  assert.deepEqual(
    payloads.flatMap((p) => JSON.parse(p.toString("utf8")) as string[]),
    many,
  );
  const bytes = phase(payloads.map((p) => p.toString("utf8")));
  const got = await readHeld(new StreamReader(readableFrom([bytes])), new Set(many), LIMITS);
  assert.equal(got.size, many.length);
});

test("localOffer: every regular file as its record path, size and mtime in ms; links left out", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-offer-"));
  try {
    await fs.mkdir(path.join(dir, "sub/deeper"), { recursive: true });
    await fs.writeFile(path.join(dir, "a.txt"), "alpha");
    await fs.writeFile(path.join(dir, "sub/deeper/b.bin"), "");
    await fs.symlink(path.join(dir, "a.txt"), path.join(dir, "link.txt"));
    await fs.symlink(path.join(dir, "sub"), path.join(dir, "linkdir"));
    const when = new Date(1_700_000_000_123);
    await fs.utimes(path.join(dir, "a.txt"), when, when);
    const offer = localOffer(dir, { sha256: false }).sort((x, y) => x.path.localeCompare(y.path));
    const stamp = Number(
      (await fs.stat(path.join(dir, "a.txt"), { bigint: true })).mtimeNs / 1_000_000n,
    );
    assert.deepEqual(
      offer.map((e) => [e.path, e.size]),
      [
        ["a.txt", 5],
        ["sub/deeper/b.bin", 0],
      ],
    );
    const [first] = offer;
    assert.ok(first !== undefined);
    assert.deepEqual([first.mtime, "sha256" in first], [stamp, false]);
    const hashed = localOffer(dir, { sha256: true }).find((e) => e.path === "a.txt");
    assert.equal(hashed?.sha256, createHash("sha256").update("alpha").digest("hex"));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
