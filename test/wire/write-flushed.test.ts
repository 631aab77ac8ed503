// writeFlushed (issue 5): resolves once the stream has flushed the chunks, whatever its buffer
// holds, so a sender can keep one write queued; fails with a code when the stream goes away.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { writeFlushed } from "../../src/wire/write-flushed.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { socketPair } from "../helpers/socket-pair.js";

test("resolves only once the stream's callback for the last chunk has run", async () => {
  const held: (() => void)[] = [];
  const received: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 4,
    writev(chunks, done) {
      for (const { chunk } of chunks) received.push(chunk as Buffer);
      held.push(done);
    },
  });
  let settled = false;
  const flushed = writeFlushed(sink, [Buffer.from("head"), Buffer.from("payload")]).then(() => {
    settled = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false); // the sink has not said it is done
  assert.equal(Buffer.concat(received).toString(), "headpayload"); // one writev, corked
  assert.equal(held.length, 1);
  held[0]?.();
  await flushed;
  assert.equal(settled, true);
});

test("carries every byte over a socket in order", async () => {
  const pair = await socketPair();
  try {
    const parts = [Buffer.alloc(3 << 20, 1), Buffer.alloc(5, 2)];
    const got: Buffer[] = [];
    pair.server.on("data", (chunk: Buffer) => got.push(chunk));
    await writeFlushed(pair.client, parts);
    pair.client.end();
    await new Promise((resolve) => pair.server.once("end", resolve));
    assert.ok(Buffer.concat(got).equals(Buffer.concat(parts)));
  } finally {
    await pair.close();
  }
});

test("rejects with BFTP_ERR_CONNECTION_LOST when the socket is destroyed before flushing", async () => {
  const pair = await socketPair();
  try {
    pair.server.pause(); // nothing is read: 64 MiB cannot all reach the kernel
    const pending = writeFlushed(pair.client, [Buffer.alloc(64 << 20)]);
    setImmediate(() => pair.client.destroy());
    await rejectsWithCode(pending, "BFTP_ERR_CONNECTION_LOST");
    await rejectsWithCode(
      writeFlushed(pair.client, [Buffer.from("x")]),
      "BFTP_ERR_CONNECTION_LOST",
    );
  } finally {
    await pair.close();
  }
});

test("rejects with BFTP_ERR_TIMEOUT when nothing flushes within the deadline", async () => {
  const pair = await socketPair();
  try {
    pair.server.pause();
    await rejectsWithCode(
      writeFlushed(pair.client, [Buffer.alloc(64 << 20)], { timeout: 50 }),
      "BFTP_ERR_TIMEOUT",
    );
  } finally {
    await pair.close();
  }
});
