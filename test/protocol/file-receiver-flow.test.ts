// Issue 12: FileReceiver over a real socket. A disk slower than the network pauses the socket
// (bounded memory, TCP backpressure to the sender) and is not a stall; a peer that stops
// sending mid-phase is one.
import assert from "node:assert/strict";
import type net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { test } from "node:test";
import { BftpError } from "../../src/errors.js";
import { DataPhaseReader } from "../../src/protocol/data-phase-reader.js";
import { FileSender } from "../../src/protocol/file-sender.js";
import { HEX_SIZE_HEADER, StreamReader } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { socketPair } from "../helpers/socket-pair.js";
import { waitUntil } from "../helpers/wait-until.js";

const HIGH_WATER_MARK = 256 * 1024;
const BACKLOG = 512 * 1024;

/** A sender of `length` pattern bytes (byte i is i mod 251) from memory, as the client's PUT. */
function send(socket: net.Socket, length: number): Promise<unknown> {
  return new FileSender(socket, {
    alg: "crc32",
    maxChunk: 1 << 20,
    offset: 0,
    length,
    timeout: 20_000,
    bufferSize: () => 1 << 20,
    readAt: (buffer, n, position, done) => {
      for (let i = 0; i < n; i++) buffer[i] = (position + i) % 251;
      setImmediate(() => {
        done(null, n);
      });
    },
    readError: (err) => new BftpError("BFTP_ERR_INTERNAL", "Cannot read", { cause: err }),
  }).run();
}

test("a disk that holds its write pauses the socket: memory stays bounded, no stall", async () => {
  const pair = await socketPair();
  try {
    const reader = new StreamReader(pair.server, { highWaterMark: HIGH_WATER_MARK });
    const phase = new DataPhaseReader(reader, "crc32", {
      maxChunk: 1 << 20,
      maxTrailer: 8192,
      timeout: 100, // shorter than the held write: waiting on the disk must not count
    });
    const length = 32 * 1024 * 1024;
    const sent = send(pair.client, length);
    const held: (() => void)[] = [];
    let written = 0;
    let mostPending = 0;
    let good = true;
    const receiving = phase.receiveFile({
      position: 0,
      backlog: () => BACKLOG,
      writeAt: (buffers, position, done) => {
        let at = position;
        for (const buffer of buffers) {
          for (let i = 0; i < buffer.length; i += 4099) good &&= buffer[i] === (at + i) % 251;
          at += buffer.length;
        }
        const bytes = at - position;
        mostPending = Math.max(mostPending, bytes);
        held.push(() => {
          written += bytes;
          done(null, bytes);
        });
      },
    });
    // The first write is held: the receiver gathers up to its backlog, then the reader queues
    // up to its high-water mark, and the socket is paused.
    await waitUntil(() => held.length === 1 && pair.server.isPaused(), "the socket pauses");
    const buffered = reader.buffered;
    assert.ok(
      buffered <= HIGH_WATER_MARK + (1 << 20),
      `${buffered} bytes queued past the high-water mark`,
    );
    // Held well past the stall deadline: the disk's wait is not the peer's stall.
    await waitUntil(() => phase.bytes > 0, "bytes arrived", 5000);
    const before = phase.bytes;
    // No event marks a deadline that did not fire: three deadlines' worth of holding it is.
    await delay(300);
    assert.equal(phase.bytes, before); // nothing taken while the write is held
    // Let the disk go: every held write completes at once, as the next ones are asked for.
    for (let rounds = 0; rounds < 10_000; rounds++) {
      const next = held.shift();
      if (next === undefined) {
        if (phase.bytes === length && written === length) break;
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      next();
    }
    const writeError = await receiving;
    await sent;
    assert.equal(writeError, undefined);
    assert.equal(phase.result.failure, undefined);
    assert.equal(written, length);
    assert.ok(good, "a byte arrived at the wrong position");
    assert.ok(mostPending <= BACKLOG + (1 << 20), `a write of ${mostPending} bytes`);
  } finally {
    await pair.close();
  }
});

test("a peer that stops sending mid-phase is BFTP_ERR_TIMEOUT once the stall deadline passes", async () => {
  const pair = await socketPair();
  try {
    const reader = new StreamReader(pair.server);
    const phase = new DataPhaseReader(reader, "crc32", {
      maxChunk: 1 << 20,
      maxTrailer: 8192,
      timeout: 50,
    });
    // One frame announced with 1,000 bytes, 10 of them sent, then silence.
    pair.client.write(Buffer.concat([HEX_SIZE_HEADER.encode(1000), Buffer.alloc(10, 1)]));
    let writes = 0;
    await rejectsWithCode(
      phase.receiveFile({
        position: 0,
        backlog: () => BACKLOG,
        writeAt: (buffers, _position, done) => {
          writes++;
          setImmediate(() => {
            done(
              null,
              buffers.reduce((sum, b) => sum + b.length, 0),
            );
          });
        },
      }),
      "BFTP_ERR_TIMEOUT",
    );
    assert.equal(writes, 1); // the 10 bytes that came were written before the failure
  } finally {
    await pair.close();
  }
});
