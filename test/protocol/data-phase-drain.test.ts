// Regression (battery P4, about 1 run in 10): a download whose local destination failed while
// `chunks()` was waiting for data called drain() with that read still pending, which collided
// with it (BFTP_ERR_READ_PENDING) and failed every download queued behind it on the connection.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { DataPhaseReader } from "../../src/protocol/data-phase-reader.js";
import { sendDataPhase } from "../../src/protocol/send-data-phase.js";
import { StreamReader } from "../../src/wire/index.js";
import { socketPair } from "../helpers/socket-pair.js";

test("drain() waits for a read the consumer left pending, then reads the rest in step", async () => {
  const pair = await socketPair();
  try {
    const reader = new StreamReader(pair.server);
    const phase = new DataPhaseReader(reader, "crc32", {
      maxChunk: 1 << 20,
      maxTrailer: 8192,
      timeout: 10_000,
    });
    // The consumer asks for the first piece before any byte has arrived, then gives up.
    const chunks = phase.chunks();
    const pending = chunks.next();
    await sleep(20);
    const drained = phase.drain();
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(3000, 1);
      await sleep(10);
      yield Buffer.alloc(5000, 2);
    }
    await sendDataPhase(pair.client, source(), { alg: "crc32", maxChunk: 4096, timeout: 10_000 });
    pair.client.write("0000000bhello world"); // the next message, after the phase
    const result = await drained;
    assert.equal(result.failure, undefined);
    assert.equal(phase.bytes, 8000);
    assert.equal((await pending).done, false); // the pending read got its piece
    // The stream is in step: the next frame is the one written after the phase.
    assert.equal((await reader.readFrame({ maxSize: 100 })).toString(), "hello world");
  } finally {
    await pair.close();
  }
});
