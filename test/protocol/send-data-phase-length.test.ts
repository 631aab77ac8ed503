// sendDataPhase with a known `length` (issue 5): no frame is held back, the last one leaves
// with the terminator and trailer, a source that yields more is cut and one that yields less
// ends the phase with an error trailer; the source may reuse buffers in a rotation of three.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { setImmediate as tick, setTimeout as sleep } from "node:timers/promises";
import { DataPhaseReader } from "../../src/protocol/data-phase-reader.js";
import { sendDataPhase } from "../../src/protocol/send-data-phase.js";
import { StreamReader } from "../../src/wire/index.js";
import { socketPair } from "../helpers/socket-pair.js";

const LIMITS = { maxChunk: 1 << 20, maxTrailer: 8192, timeout: 10_000 };

async function roundTrip(
  source: AsyncIterable<Uint8Array>,
  options: { length?: number; maxChunk?: number; stallMs?: number },
): Promise<{ data: Buffer; failure: string | undefined; sentFailure: string | undefined }> {
  const pair = await socketPair();
  try {
    const phase = new DataPhaseReader(new StreamReader(pair.server), "crc32", LIMITS);
    const received = (async () => {
      // A receiver that starts late lets the sender's writes queue up behind full buffers.
      if (options.stallMs !== undefined) await sleep(options.stallMs);
      const parts: Buffer[] = [];
      for await (const piece of phase.chunks()) parts.push(Buffer.from(piece));
      return Buffer.concat(parts);
    })();
    const sent = await sendDataPhase(pair.client, source, {
      alg: "crc32",
      maxChunk: options.maxChunk ?? 1 << 20,
      timeout: 10_000,
      ...(options.length === undefined ? {} : { length: options.length }),
    });
    const data = await received;
    return { data, failure: phase.result.failure?.code, sentFailure: sent.failure?.code };
  } finally {
    await pair.close();
  }
}

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) {
    await tick(); // a source that is really asynchronous, as a file is
    yield data.subarray(at, at + size);
  }
}

test("a source of exactly `length` bytes arrives whole and verified", async () => {
  const data = randomBytes(5 * 4096 + 3);
  const got = await roundTrip(pieces(data, 4096), { length: data.length, maxChunk: 3000 });
  assert.ok(got.data.equals(data));
  assert.equal(got.failure, undefined);
});

test("a source that yields more than `length` is cut at `length`", async () => {
  const data = randomBytes(10_000);
  const got = await roundTrip(pieces(data, 4096), { length: 6000 });
  assert.ok(got.data.equals(data.subarray(0, 6000)));
  assert.equal(got.failure, undefined);
});

test("a source that ends before `length` ends the phase with an error trailer", async () => {
  const data = randomBytes(5000);
  const got = await roundTrip(pieces(data, 4096), { length: 9000 });
  assert.equal(got.sentFailure, "BFTP_ERR_INTERNAL");
  assert.equal(got.failure, "BFTP_ERR_INTERNAL");
});

test("a source that refills its buffers in a rotation of three sends the right bytes", async () => {
  const block = 1 << 20;
  const data = randomBytes(24 * block + 11); // more than loopback's kernel buffers hold
  const buffers = [Buffer.alloc(block), Buffer.alloc(block), Buffer.alloc(block)];
  async function* rotating(): AsyncGenerator<Buffer> {
    let turn = 0;
    for (let at = 0; at < data.length; at += block, turn++) {
      await tick();
      const buffer = buffers[turn % 3] as Buffer;
      const n = data.copy(buffer, 0, at, at + block);
      yield buffer.subarray(0, n);
    }
  }
  for (const length of [data.length, undefined]) {
    const got = await roundTrip(rotating(), {
      stallMs: 300,
      ...(length === undefined ? {} : { length }),
    });
    assert.ok(got.data.equals(data), `length ${String(length)}`);
    assert.equal(got.failure, undefined);
  }
});
