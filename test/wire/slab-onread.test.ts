import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { test } from "node:test";
import { slabOnread, type SlabOnreadOptions } from "../../src/wire/slab-onread.js";
import { StreamReader } from "../../src/wire/stream-reader.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { waitUntil } from "../helpers/wait-until.js";

/** A real loopback connection whose client end reads through slabOnread into a StreamReader. */
async function slabPair(
  options: SlabOnreadOptions,
  highWaterMark?: number,
): Promise<{ reader: StreamReader; client: net.Socket; server: net.Socket; close: () => void }> {
  const listener = net.createServer();
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, "connection") as Promise<[net.Socket]>;
  const late: { reader?: StreamReader } = {};
  const client = net.connect({
    host: "127.0.0.1",
    port,
    onread: slabOnread((chunk) => {
      (late.reader as StreamReader).feed(chunk);
    }, options),
  });
  const reader = new StreamReader(client, highWaterMark === undefined ? {} : { highWaterMark });
  late.reader = reader;
  client.on("error", () => {});
  await once(client, "connect");
  const [server] = await accepted;
  server.on("error", () => {});
  listener.close();
  return {
    reader,
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
    },
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("slabOnread delivers every byte in order under random split writes, and views stay valid", async () => {
  const next = random(7);
  const data = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(next() * 256);
  // Small slabs, so the transfer crosses dozens of them and reads straddle their ends.
  const { reader, server, close } = await slabPair({ slabSize: 64 * 1024, minFree: 1000 });
  try {
    void (async () => {
      for (let at = 0; at < data.length;) {
        const size = 1 + Math.floor(next() * 40_000);
        const ok = server.write(data.subarray(at, at + size));
        at += size;
        if (!ok) await once(server, "drain");
      }
      server.end();
    })();
    const pieces: Buffer[] = []; // every view is kept: a reused slab would corrupt earlier ones
    let received = 0;
    while (received < data.length) {
      const piece = await reader.readSome(1 + Math.floor(next() * 100_000), { timeout: 10_000 });
      pieces.push(piece);
      received += piece.length;
    }
    assert.ok(Buffer.concat(pieces).equals(data), "the bytes, in order, unchanged");
    await rejectsWithCode(reader.readSome(1, { timeout: 10_000 }), "BFTP_ERR_PEER_CLOSED");
  } finally {
    close();
  }
});

test("slabOnread pauses the socket while a slow reader is behind: memory stays bounded", async () => {
  const highWaterMark = 128 * 1024;
  const slabSize = 256 * 1024;
  const { reader, server, close } = await slabPair({ slabSize, minFree: 16 * 1024 }, highWaterMark);
  try {
    const block = Buffer.alloc(64 * 1024, 0x5a);
    const total = 16 * 1024 * 1024;
    let sent = 0;
    // Write until TCP pushes back or everything is written. Whether it pushes back before
    // 16 MiB depends on the kernel's buffer sizes (issue 11, item 6), so it is not asserted:
    // what is asserted is the reader's own queue, which does not depend on them.
    for (let accepted = true; sent < total && accepted; sent += block.length) {
      accepted = server.write(block);
    }
    await waitUntil(() => reader.buffered >= highWaterMark, "the reader has read ahead");
    // At most the high-water mark plus the one read that crossed it (at most a slab).
    assert.ok(reader.buffered <= highWaterMark + slabSize, `buffered ${reader.buffered}`);
    const writing = (async () => {
      while (sent < total) {
        if (!server.write(block)) await once(server, "drain");
        sent += block.length;
      }
      server.end();
    })();
    let received = 0;
    let peak = 0;
    for (;;) {
      peak = Math.max(peak, reader.buffered);
      const piece = await reader.readSome(8192, { timeout: 10_000 }).catch(() => null);
      if (piece === null) break;
      assert.ok(piece.every((b) => b === 0x5a));
      received += piece.length;
    }
    await writing;
    assert.equal(received, total);
    assert.ok(peak <= highWaterMark + slabSize, `peak ${peak}`);
  } finally {
    close();
  }
});

test("slabOnread: end mid-read is UNEXPECTED_EOF, a reset is CONNECTION_LOST", async () => {
  const first = await slabPair({ slabSize: 4096, minFree: 512 });
  try {
    first.server.end("abc");
    const err = await rejectsWithCode(
      first.reader.readExactly(10, { timeout: 10_000 }),
      "BFTP_ERR_UNEXPECTED_EOF",
    );
    assert.deepEqual(err.details, { received: 3, expected: 10 });
  } finally {
    first.close();
  }
  const second = await slabPair({});
  try {
    second.server.write("ab");
    await waitUntil(() => second.reader.buffered === 2, "two bytes arrived");
    const pending = second.reader.readExactly(10, { timeout: 10_000 });
    second.server.resetAndDestroy();
    await rejectsWithCode(pending, "BFTP_ERR_CONNECTION_LOST");
    // The failed read consumed nothing; a read the two queued bytes cannot satisfy fails too.
    assert.equal(second.reader.buffered, 2);
    await rejectsWithCode(second.reader.readExactly(3), "BFTP_ERR_CONNECTION_LOST");
  } finally {
    second.close();
  }
});
