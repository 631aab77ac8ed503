// Issue 12: FileSender sends a data phase from positioned reads straight to a socket. Real
// sockets on 127.0.0.1; the receiving end is the protocol's own DataPhaseReader, so what is
// checked is what a client sees: the bytes, the trailer's code, and the stream in step.
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { BftpError, isBftpError, type ErrorCode } from "../../src/errors.js";
import { DataPhaseReader } from "../../src/protocol/data-phase-reader.js";
import { FileSender, type FileSenderOptions, type ReadAt } from "../../src/protocol/file-sender.js";
import { encodeFrame, StreamReader } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { socketPair, type SocketPair } from "../helpers/socket-pair.js";

const SIZE = 300_000 + 17;
const FILE = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) FILE[i] = (i * 7 + (i >> 9)) & 0xff;

/** Reads from FILE on a later tick; `hook` may answer a read itself (an error, a short file). */
function readsOf(hook?: (position: number) => { err: unknown; bytes: number } | undefined): {
  readAt: ReadAt;
  reads: number[];
} {
  const reads: number[] = [];
  return {
    reads,
    readAt: (buffer, length, position, done) => {
      reads.push(position);
      const forced = hook?.(position);
      setImmediate(() => {
        if (forced !== undefined) done(forced.err, forced.bytes);
        else done(null, FILE.copy(buffer, 0, position, Math.min(SIZE, position + length)));
      });
    },
  };
}

function options(readAt: ReadAt, more: Partial<FileSenderOptions> = {}): FileSenderOptions {
  return {
    alg: "crc32",
    maxChunk: 10_000,
    offset: 0,
    length: SIZE,
    readAt,
    readError: (err) => new BftpError("BFTP_ERR_INTERNAL", "Cannot read", { cause: err }),
    bufferSize: () => 64 * 1024,
    timeout: 10_000,
    ...more,
  };
}

/** Receives one data phase on `pair.server`; returns its bytes and outcome, and the reader. */
async function receive(
  reader: StreamReader,
): Promise<{ data: Buffer; failure: BftpError | undefined }> {
  const phase = new DataPhaseReader(reader, "crc32", { maxChunk: 10_000, maxTrailer: 8192 });
  const parts: Buffer[] = [];
  for await (const piece of phase.chunks()) parts.push(Buffer.from(piece));
  return { data: Buffer.concat(parts), failure: phase.result.failure };
}

async function withPair(body: (pair: SocketPair, reader: StreamReader) => Promise<void>) {
  const pair = await socketPair();
  try {
    await body(pair, new StreamReader(pair.server));
  } finally {
    await pair.close();
  }
}

function assertFailure(failure: BftpError | undefined, code: ErrorCode): void {
  assert.ok(isBftpError(failure), `expected a failure, got ${String(failure)}`);
  assert.equal(failure.code, code);
}

test("a SHA-256 phase is verified (its digest is taken once)", async () => {
  await withPair(async (pair, reader) => {
    const { readAt } = readsOf();
    const sending = new FileSender(pair.client, options(readAt, { alg: "sha256" })).run();
    const phase = new DataPhaseReader(reader, "sha256", { maxChunk: 10_000, maxTrailer: 8192 });
    for await (const piece of phase.chunks()) assert.ok(piece.length > 0);
    assert.equal(phase.result.failure, undefined);
    assert.equal((await sending).checksum, phase.result.checksum);
  });
});

test("a range arrives whole and verified, in frames of maxChunk, after the prefix", async () => {
  await withPair(async (pair, reader) => {
    const { readAt } = readsOf();
    const offset = 1000;
    const length = SIZE - 1000 - 33;
    const sending = new FileSender(
      pair.client,
      options(readAt, { offset, length, prefix: [encodeFrame("reply")] }),
    ).run();
    assert.equal((await reader.readFrame({ maxSize: 100 })).toString(), "reply");
    const { data, failure } = await receive(reader);
    const sent = await sending;
    assert.equal(failure, undefined);
    assert.deepEqual(data, FILE.subarray(offset, offset + length));
    assert.equal(sent.bytes, length);
    assert.equal(sent.failure, undefined);
  });
});

test("an empty range is the terminator and a verified trailer", async () => {
  await withPair(async (pair, reader) => {
    const { readAt, reads } = readsOf();
    const sending = new FileSender(pair.client, options(readAt, { length: 0 })).run();
    const { data, failure } = await receive(reader);
    assert.equal((await sending).bytes, 0);
    assert.equal(failure, undefined);
    assert.equal(data.length, 0);
    assert.equal(reads.length, 0);
  });
});

test("a read error mid-way ends the phase with its code; the connection stays in step", async () => {
  await withPair(async (pair, reader) => {
    const eio = Object.assign(new Error("EIO"), { code: "EIO" });
    const { readAt } = readsOf((position) =>
      position >= 128 * 1024 ? { err: eio, bytes: 0 } : undefined,
    );
    const sending = new FileSender(
      pair.client,
      options(readAt, {
        readError: (err) =>
          new BftpError("BFTP_ERR_PERMISSION_DENIED", "Cannot read", { cause: err }),
      }),
    ).run();
    const { data, failure } = await receive(reader);
    const sent = await sending;
    assertFailure(failure, "BFTP_ERR_PERMISSION_DENIED");
    assertFailure(sent.failure, "BFTP_ERR_PERMISSION_DENIED");
    assert.deepEqual(data, FILE.subarray(0, data.length)); // what came is the file's start
    pair.client.write(encodeFrame("after"));
    assert.equal((await reader.readFrame({ maxSize: 100 })).toString(), "after");
  });
});

test("a file that ends early ends the phase with endedEarly's code", async () => {
  await withPair(async (pair, reader) => {
    const { readAt } = readsOf((position) =>
      position >= 200_000 ? { err: null, bytes: 0 } : undefined,
    );
    const changed = (): BftpError => new BftpError("BFTP_ERR_FILE_CHANGED", "changed");
    const sending = new FileSender(pair.client, options(readAt, { endedEarly: changed })).run();
    const { failure } = await receive(reader);
    assertFailure(failure, "BFTP_ERR_FILE_CHANGED");
    assertFailure((await sending).failure, "BFTP_ERR_FILE_CHANGED");
  });
});

test("shouldStop between frames ends the phase early (ABORT)", async () => {
  await withPair(async (pair, reader) => {
    const { readAt } = readsOf();
    let asked = 0;
    const sending = new FileSender(
      pair.client,
      options(readAt, {
        shouldStop: () =>
          ++asked === 1 ? new BftpError("BFTP_ERR_TRANSFER_ABORTED", "aborted") : undefined,
      }),
    ).run();
    const { data, failure } = await receive(reader);
    assertFailure(failure, "BFTP_ERR_TRANSFER_ABORTED");
    assert.equal((await sending).failure?.code, "BFTP_ERR_TRANSFER_ABORTED");
    assert.equal(data.length, 64 * 1024); // the first buffer always goes; asked before the next
    assert.equal(asked, 1);
  });
});

test("beforeLast runs after the last read and its error replaces the last frame", async () => {
  await withPair(async (pair, reader) => {
    const { readAt, reads } = readsOf();
    let readsWhenAsked = -1;
    const sending = new FileSender(
      pair.client,
      options(readAt, {
        beforeLast: () => {
          readsWhenAsked = reads.length;
          return Promise.resolve(new BftpError("BFTP_ERR_FILE_CHANGED", "changed"));
        },
      }),
    ).run();
    const { data, failure } = await receive(reader);
    assertFailure(failure, "BFTP_ERR_FILE_CHANGED");
    await sending;
    assert.equal(readsWhenAsked, Math.ceil(SIZE / (64 * 1024)));
    assert.ok(data.length < SIZE);
  });
});

test("a peer that stops reading holds the sender to its buffers, then the stall deadline", async () => {
  await withPair(async (pair) => {
    pair.server.pause(); // nothing is read on the other side
    const made = new Set<Buffer>();
    let reads = 0;
    const big = 64 * 1024 * 1024;
    const sending = new FileSender(pair.client, {
      alg: "crc32",
      maxChunk: 1 << 20,
      offset: 0,
      length: big,
      buffers: 4,
      timeout: 200,
      bufferSize: () => 1 << 20,
      readAt: (buffer, length, _position, done) => {
        made.add(buffer);
        reads++;
        setImmediate(() => {
          done(null, length);
        });
      },
      readError: (err) => new BftpError("BFTP_ERR_INTERNAL", "Cannot read", { cause: err }),
    }).run();
    const err = await rejectsWithCode(sending, "BFTP_ERR_TIMEOUT");
    assert.ok(err instanceof BftpError);
    assert.equal(made.size, 4); // the rotation, never more, whatever the socket holds
    assert.ok(reads * (1 << 20) < big, `${reads} reads: the sender did not wait for the peer`);
    assert.equal(pair.client.writableLength <= 4 * ((1 << 20) + 8), true);
  });
});

test("a connection lost mid-way rejects, once no read is pending", async () => {
  await withPair(async (pair, reader) => {
    let pending = 0;
    let settledWithReadPending = false;
    const { readAt: inner } = readsOf();
    const readAt: ReadAt = (buffer, length, position, done) => {
      pending++;
      inner(buffer, length, position, (err, bytes) => {
        pending--;
        done(err, bytes);
      });
    };
    const sending = new FileSender(pair.client, options(readAt)).run();
    sending.catch(() => {
      settledWithReadPending = pending > 0;
    });
    await reader.readExactly(20_000);
    pair.client.destroy();
    await once(pair.client, "close");
    await rejectsWithCode(sending, "BFTP_ERR_CONNECTION_LOST");
    assert.equal(settledWithReadPending, false);
  });
});
