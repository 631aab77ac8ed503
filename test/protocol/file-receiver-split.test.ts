// Issue 12: DataPhaseReader.receiveFile (FileReceiver) parses a data phase synchronously as
// bytes arrive. Every fixture runs whole, byte by byte and split at every point; errors are
// asserted by code, and the stream stays in step where the protocol says it does.
import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import { DataPhaseReader } from "../../src/protocol/data-phase-reader.js";
import type { WriteAt } from "../../src/protocol/file-receiver.js";
import { encodeMessage } from "../../src/protocol/replies.js";
import { HEX_SIZE_HEADER, StreamReader } from "../../src/wire/index.js";
import { isBftpError, type ErrorCode } from "../../src/errors.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { readableFrom, splits } from "../helpers/feed.js";

function assertCode(err: unknown, code: ErrorCode, what = ""): void {
  assert.ok(isBftpError(err), `${what}: expected a BftpError, got ${String(err)}`);
  assert.equal(err.code, code, what);
}

const LIMITS = { maxChunk: 16, maxTrailer: 256 };

/** A data phase carrying `data` in frames of at most `frame` bytes, with a trailer. */
function phaseBytes(data: Buffer, frame: number, trailer?: object): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += frame) {
    const piece = data.subarray(at, at + frame);
    parts.push(HEX_SIZE_HEADER.encode(piece.length), piece);
  }
  const crc = zlib.crc32(data).toString(16).padStart(8, "0");
  parts.push(
    HEX_SIZE_HEADER.encode(0),
    encodeMessage(trailer ?? { ok: true, checksum: { alg: "crc32", value: crc } }),
  );
  return Buffer.concat(parts);
}

/** A file in memory: writes land at their position; `fail` makes the next write fail. */
function memoryFile(size: number): { bytes: Buffer; writes: number; writeAt: WriteAt } {
  const file = { bytes: Buffer.alloc(size), writes: 0, writeAt: undefined as unknown as WriteAt };
  file.writeAt = (buffers, position, done) => {
    file.writes++;
    let at = position;
    for (const buffer of buffers) {
      buffer.copy(file.bytes, at);
      at += buffer.length;
    }
    setImmediate(() => {
      done(null, at - position);
    });
  };
  return file;
}

const DATA = Buffer.from("the quick brown fox jumps over the lazy dog, twice over");
const NEXT = Buffer.concat([HEX_SIZE_HEADER.encode(4), Buffer.from("next")]);

test("a phase split anywhere arrives whole, verified, and leaves the next frame queued", async () => {
  const wire = Buffer.concat([phaseBytes(DATA, 10), NEXT]);
  for (const split of splits(wire)) {
    const reader = new StreamReader(readableFrom(split.pieces));
    const phase = new DataPhaseReader(reader, "crc32", LIMITS);
    const file = memoryFile(DATA.length + 3);
    const writeError = await phase.receiveFile({
      position: 3,
      backlog: () => 64,
      writeAt: file.writeAt,
    });
    assert.equal(writeError, undefined, split.name);
    assert.equal(phase.result.failure, undefined, split.name);
    assert.equal(phase.result.bytes, DATA.length, split.name);
    assert.deepEqual(file.bytes.subarray(3), DATA, split.name);
    assert.equal((await reader.readFrame({ maxSize: 10 })).toString(), "next", split.name);
  }
});

test("an empty phase writes nothing and is verified", async () => {
  for (const split of splits(phaseBytes(Buffer.alloc(0), 10))) {
    const reader = new StreamReader(readableFrom(split.pieces));
    const phase = new DataPhaseReader(reader, "crc32", LIMITS);
    const file = memoryFile(0);
    await phase.receiveFile({ position: 0, backlog: () => 64, writeAt: file.writeAt });
    assert.equal(phase.result.failure, undefined, split.name);
    assert.equal(phase.result.bytes, 0, split.name);
    assert.equal(file.writes, 0, split.name);
  }
});

test("a wrong checksum and a sender's abort are failures of a phase read in step", async () => {
  const cases: { trailer: object; code: ErrorCode }[] = [
    {
      trailer: { ok: true, checksum: { alg: "crc32", value: "00000000" } },
      code: "BFTP_ERR_CHECKSUM_MISMATCH",
    },
    {
      trailer: { ok: false, error: { code: "BFTP_ERR_FILE_CHANGED", status: 409, message: "x" } },
      code: "BFTP_ERR_FILE_CHANGED",
    },
  ];
  for (const { trailer, code } of cases) {
    for (const split of splits(Buffer.concat([phaseBytes(DATA, 16, trailer), NEXT]))) {
      const reader = new StreamReader(readableFrom(split.pieces));
      const phase = new DataPhaseReader(reader, "crc32", LIMITS);
      const file = memoryFile(DATA.length);
      await phase.receiveFile({ position: 0, backlog: () => 64, writeAt: file.writeAt });
      assertCode(phase.result.failure, code, split.name);
      assert.equal((await reader.readFrame({ maxSize: 10 })).toString(), "next", split.name);
    }
  }
});

test("a malformed phase fails with its code, whole or byte by byte", async () => {
  const good = phaseBytes(DATA, 16);
  const cases: { wire: Buffer; code: ErrorCode }[] = [
    {
      wire: Buffer.concat([HEX_SIZE_HEADER.encode(17), Buffer.alloc(17)]),
      code: "BFTP_ERR_FRAME_TOO_LARGE",
    },
    { wire: Buffer.from("0000000zabc"), code: "BFTP_ERR_BAD_FRAME_HEADER" },
    { wire: good.subarray(0, good.length - 5), code: "BFTP_ERR_UNEXPECTED_EOF" },
    { wire: good.subarray(0, 20), code: "BFTP_ERR_UNEXPECTED_EOF" },
    {
      wire: Buffer.concat([
        HEX_SIZE_HEADER.encode(0),
        HEX_SIZE_HEADER.encode(300),
        Buffer.alloc(300),
      ]),
      code: "BFTP_ERR_FRAME_TOO_LARGE",
    },
    {
      wire: Buffer.concat([
        HEX_SIZE_HEADER.encode(0),
        HEX_SIZE_HEADER.encode(2),
        Buffer.from("{}"),
      ]),
      code: "BFTP_ERR_PROTOCOL",
    },
  ];
  for (const { wire, code } of cases) {
    const ways = [[wire], [...wire].map((b) => Buffer.from([b]))];
    for (const pieces of ways) {
      const reader = new StreamReader(readableFrom(pieces));
      const phase = new DataPhaseReader(reader, "crc32", LIMITS);
      const file = memoryFile(4096);
      await rejectsWithCode(
        phase.receiveFile({ position: 0, backlog: () => 64, writeAt: file.writeAt }),
        code,
      );
    }
  }
});

test("bytes that arrived before the stream ended are written before the failure is thrown", async () => {
  const wire = phaseBytes(DATA, 16);
  const reader = new StreamReader(readableFrom([wire.subarray(0, 8 + 16 + 8 + 5)]));
  const phase = new DataPhaseReader(reader, "crc32", LIMITS);
  const file = memoryFile(DATA.length);
  await rejectsWithCode(
    phase.receiveFile({ position: 0, backlog: () => 1024, writeAt: file.writeAt }),
    "BFTP_ERR_UNEXPECTED_EOF",
  );
  assert.deepEqual(file.bytes.subarray(0, 21), DATA.subarray(0, 21)); // a resumable upload keeps them
});

test("a failed file write drops the rest of the phase, in step, and is returned", async () => {
  for (const split of splits(Buffer.concat([phaseBytes(DATA, 10), NEXT]))) {
    const reader = new StreamReader(readableFrom(split.pieces));
    const phase = new DataPhaseReader(reader, "crc32", LIMITS);
    let writes = 0;
    const enospc = Object.assign(new Error("no space"), { code: "ENOSPC" });
    const writeError = await phase.receiveFile({
      position: 0,
      backlog: () => 8,
      writeAt: (_buffers, _position, done) => {
        writes++;
        setImmediate(() => {
          done(enospc, 0);
        });
      },
    });
    assert.equal(writeError, enospc, split.name);
    assert.equal(writes, 1, split.name); // nothing written after the failure
    assert.equal(phase.result.failure, undefined, split.name); // the phase itself was fine
    assert.equal((await reader.readFrame({ maxSize: 10 })).toString(), "next", split.name);
  }
});

test("a short write is continued from where it stopped", async () => {
  const reader = new StreamReader(readableFrom([phaseBytes(DATA, 16)]));
  const phase = new DataPhaseReader(reader, "crc32", LIMITS);
  const out = Buffer.alloc(DATA.length);
  let writes = 0;
  await phase.receiveFile({
    position: 0,
    backlog: () => 4096,
    writeAt: (buffers, position, done) => {
      writes++;
      const first = buffers[0] as Buffer;
      const n = Math.min(first.length, 7); // at most 7 bytes per call
      first.copy(out, position, 0, n);
      setImmediate(() => {
        done(null, n);
      });
    },
  });
  assert.deepEqual(out, DATA);
  assert.ok(writes >= Math.ceil(DATA.length / 7));
});

test("receiveFile refuses a phase already begun", async () => {
  const reader = new StreamReader(readableFrom([phaseBytes(DATA, 16)]));
  const phase = new DataPhaseReader(reader, "crc32", LIMITS);
  const chunks = phase.chunks();
  await chunks.next();
  await rejectsWithCode(
    phase.receiveFile({ position: 0, backlog: () => 64, writeAt: memoryFile(0).writeAt }),
    "BFTP_ERR_INVALID_ARGUMENT",
  );
});

test("a writer that completes at once (the CLI's synchronous writes) gets every byte, in step", async () => {
  const wire = Buffer.concat([phaseBytes(DATA, 10), NEXT]);
  for (const split of splits(wire)) {
    const reader = new StreamReader(readableFrom(split.pieces));
    const phase = new DataPhaseReader(reader, "crc32", LIMITS);
    const out = Buffer.alloc(DATA.length);
    let calls = 0;
    const writeError = await phase.receiveFile({
      position: 0,
      backlog: () => 16,
      writeAt: (buffers, position, done) => {
        calls++;
        const first = buffers[0] as Buffer;
        const n = Math.min(first.length, 5); // short writes, continued at once
        first.copy(out, position, 0, n);
        done(null, n);
      },
    });
    assert.equal(writeError, undefined, split.name);
    assert.equal(phase.result.failure, undefined, split.name);
    assert.deepEqual(out, DATA, split.name);
    assert.ok(calls >= DATA.length / 5, split.name);
    assert.equal((await reader.readFrame({ maxSize: 10 })).toString(), "next", split.name);
  }
});
