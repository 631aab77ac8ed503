import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { HEX_SIZE_HEADER, StreamReader, writeAll } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { socketPair } from "../helpers/socket-pair.js";

test("resolves at once when the stream accepts the bytes", async () => {
  const sink = new PassThrough();
  await writeAll(sink, Buffer.from("abc"));
  await writeAll(sink, "dé");
  assert.equal(String(sink.read()), "abcdé");
});

test("waits for 'drain' when the buffer is full, then resolves", async () => {
  let release: () => void = () => {};
  const slow = new Writable({
    highWaterMark: 4,
    write(_chunk, _enc, done) {
      release = () => {
        done();
      };
    },
  });
  let resolved = false;
  const pending = writeAll(slow, Buffer.alloc(16)).then(() => {
    resolved = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false, "must not resolve before the stream drains");
  release();
  await pending;
  assert.equal(resolved, true);
});

test("several chunks are written corked, in order, as one message", async () => {
  const { client, server, close } = await socketPair();
  try {
    const reader = new StreamReader(server);
    const body = Buffer.from("payload");
    await writeAll(client, [HEX_SIZE_HEADER.encode(body.length), body]);
    assert.equal((await reader.readFrame({ maxSize: 7 })).toString(), "payload");
  } finally {
    await close();
  }
});

test("rejects with CONNECTION_LOST when the peer goes away before the bytes are accepted", async () => {
  const { client, server, close } = await socketPair();
  try {
    server.pause(); // never read: the client's buffers fill and write() returns false
    const big = Buffer.alloc(64 * 1024 * 1024);
    const pending = writeAll(client, big, { timeout: 20_000 });
    server.resetAndDestroy();
    await rejectsWithCode(pending, "BFTP_ERR_CONNECTION_LOST");
  } finally {
    await close();
  }
});

test("rejects at once on a stream that is already closed or ended", async () => {
  const ended = new PassThrough();
  ended.end();
  await rejectsWithCode(writeAll(ended, "x"), "BFTP_ERR_CONNECTION_LOST");
  const destroyed = new PassThrough();
  destroyed.destroy();
  await rejectsWithCode(writeAll(destroyed, "x"), "BFTP_ERR_CONNECTION_LOST");
});

test("a deadline or an abort ends the wait for 'drain'", async () => {
  const stuck = new Writable({ highWaterMark: 1, write() {} }); // never drains
  await rejectsWithCode(writeAll(stuck, Buffer.alloc(8), { timeout: 20 }), "BFTP_ERR_TIMEOUT");
  const controller = new AbortController();
  const pending = writeAll(stuck, Buffer.alloc(8), { signal: controller.signal });
  controller.abort();
  await rejectsWithCode(pending, "BFTP_ERR_ABORTED");
  await rejectsWithCode(
    writeAll(stuck, Buffer.alloc(8), { signal: AbortSignal.abort() }),
    "BFTP_ERR_ABORTED",
  );
});
