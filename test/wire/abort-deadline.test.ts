import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { StreamReader, encodeFrame } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { socketPair } from "../helpers/socket-pair.js";

const sink = (): Writable =>
  new Writable({
    write: (_c, _e, done) => {
      done();
    },
  });

/** Every kind of read, started on a reader whose source has sent nothing yet. */
const READS: Record<
  string,
  (r: StreamReader, o: { signal?: AbortSignal; timeout?: number }) => Promise<unknown>
> = {
  readExactly: (r, o) => r.readExactly(4, o),
  readFixedRecord: (r, o) => r.readFixedRecord(4, o),
  readUntil: (r, o) => r.readUntil("\n", { max: 10, ...o }),
  readFrame: (r, o) => r.readFrame({ maxSize: 10, ...o }),
  readToEnd: (r, o) => r.readToEnd({ max: 10, ...o }),
  readSome: (r, o) => r.readSome(4, o),
  skip: (r, o) => r.skip(4, o),
  streamExactly: (r, o) => r.streamExactly(4, sink(), o),
  streamToEnd: (r, o) => r.streamToEnd(sink(), { max: 10, ...o }),
};

for (const [name, read] of Object.entries(READS)) {
  test(`${name}: a deadline fails the read with TIMEOUT`, async () => {
    await rejectsWithCode(
      read(new StreamReader(new PassThrough()), { timeout: 10 }),
      "BFTP_ERR_TIMEOUT",
    );
  });

  test(`${name}: an AbortSignal cancels the read, before or during the wait`, async () => {
    await rejectsWithCode(
      read(new StreamReader(new PassThrough()), { signal: AbortSignal.abort() }),
      "BFTP_ERR_ABORTED",
    );
    const controller = new AbortController();
    const pending = read(new StreamReader(new PassThrough()), { signal: controller.signal });
    controller.abort();
    await rejectsWithCode(pending, "BFTP_ERR_ABORTED");
  });
}

test("a timed-out frame read consumed nothing: the frame is read whole afterwards", async () => {
  const source = new PassThrough();
  const reader = new StreamReader(source);
  const frame = encodeFrame("hello");
  source.write(frame.subarray(0, 10)); // header and part of the payload
  await rejectsWithCode(reader.readFrame({ maxSize: 10, timeout: 10 }), "BFTP_ERR_TIMEOUT");
  source.write(frame.subarray(10));
  assert.equal((await reader.readFrame({ maxSize: 10, timeout: 5000 })).toString(), "hello");
});

test("a second read while one is pending fails with READ_PENDING; the first is unaffected", async () => {
  const source = new PassThrough();
  const reader = new StreamReader(source);
  const first = reader.readExactly(3, { timeout: 5000 });
  await rejectsWithCode(reader.readExactly(1), "BFTP_ERR_READ_PENDING");
  await rejectsWithCode(reader.streamExactly(1, sink()), "BFTP_ERR_READ_PENDING");
  source.write("abc");
  assert.equal((await first).toString(), "abc");
});

test("a reset connection fails the pending read and every later one with the first reason", async () => {
  const { client, server, close } = await socketPair();
  try {
    const reader = new StreamReader(server);
    const pending = reader.readFrame({ maxSize: 10, timeout: 10_000 });
    client.resetAndDestroy();
    const first = await rejectsWithCode(pending, "BFTP_ERR_CONNECTION_LOST");
    const later = await rejectsWithCode(reader.readExactly(1), "BFTP_ERR_CONNECTION_LOST");
    assert.equal(later, first);
  } finally {
    await close();
  }
});

test("bytes that arrived before a failure can still be read", async () => {
  const source = new PassThrough();
  const reader = new StreamReader(source);
  source.write(encodeFrame("kept"));
  source.destroy(new Error("boom"));
  await new Promise((r) => setImmediate(r));
  assert.equal((await reader.readFrame({ maxSize: 10 })).toString(), "kept");
  await rejectsWithCode(reader.readFrame({ maxSize: 10 }), "BFTP_ERR_CONNECTION_LOST");
});
