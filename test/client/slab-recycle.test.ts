// A download written synchronously reads the socket into one reused slab (slabOnread's
// recycle, issue 12 item 1). A slab reused while any view of it is still waiting to be
// written would corrupt the file after its checksum was taken, and the download would still
// pass its own check: so these tests compare the bytes on disk with the served file, on
// every path that writes (at once, after a pause in the data, through a slow link).
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { slabOnread } from "../../src/wire/slab-onread.js";
import { serveBigAndSmall, type TestServer } from "../helpers/bftp-server.js";
import { throttleProxy } from "../fixtures/throttle-proxy.js";

let srv: TestServer;
let big: Buffer;
let small: Buffer;

before(async () => {
  ({ srv, big, small } = await serveBigAndSmall());
});

after(async () => {
  await srv.stop();
});

async function scratch(): Promise<string> {
  return fs.mkdtemp(path.join(srv.outside, "..", "slab-"));
}

async function fetchInto(
  port: number,
  remote: string,
  syncWrites: boolean,
): Promise<{ bytes: Buffer; reported: number }> {
  const local = path.join(await scratch(), "copy");
  const client = await BftpClient.connect({ host: "127.0.0.1", port });
  try {
    const result = await client.download(remote, local, { syncWrites });
    return { bytes: await fs.readFile(local), reported: result.bytes };
  } finally {
    await client.close();
  }
}

for (const syncWrites of [true, false]) {
  test(`24 MiB at full speed arrives identical (syncWrites ${syncWrites})`, async () => {
    for (let round = 0; round < 3; round++) {
      const { bytes, reported } = await fetchInto(srv.port, "/big.bin", syncWrites);
      assert.equal(reported, big.length);
      assert.ok(bytes.equals(big), `round ${round}: the file on disk differs from the served one`);
    }
  });

  test(`3 MiB through a link that pauses every 16 KiB arrives identical (syncWrites ${syncWrites})`, async () => {
    // Each pause lets the receiver write what it gathered from a timer, outside the socket's
    // read callback: the case where the socket already holds the region for its next read.
    const proxy = await throttleProxy(srv.port, 64 * 1024 * 1024);
    try {
      const { bytes } = await fetchInto(proxy.port, "/small.bin", syncWrites);
      assert.ok(bytes.equals(small), "the file on disk differs from the served one");
    } finally {
      await proxy.close();
    }
  });
}

/** A connected pair on 127.0.0.1 whose client side reads with `slabOnread`. */
async function slabPair(
  deliver: (chunk: Buffer, reads: { recycle: () => void }) => void,
  slabSize: number,
): Promise<{ sender: net.Socket; receiver: net.Socket; close: () => void }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const late: { reads?: ReturnType<typeof slabOnread> } = {};
  const reads = slabOnread(
    (chunk) => {
      deliver(chunk, late.reads as ReturnType<typeof slabOnread>);
    },
    { slabSize, minFree: 16 },
  );
  late.reads = reads;
  const receiver = net.connect({
    host: "127.0.0.1",
    port: (server.address() as net.AddressInfo).port,
    onread: reads,
  });
  const sender = await accepted;
  server.close();
  return {
    sender,
    receiver,
    close: () => {
      sender.destroy();
      receiver.destroy();
    },
  };
}

/** Writes `pieces` one at a time, each once the receiver has seen the one before. */
async function sendOneByOne(
  sender: net.Socket,
  pieces: readonly Buffer[],
  seen: () => number,
): Promise<void> {
  let expected = 0;
  for (const piece of pieces) {
    expected += piece.length;
    sender.write(piece);
    const deadline = Date.now() + 10_000;
    while (seen() < expected) {
      if (Date.now() > deadline) throw new Error("the receiver saw nothing within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

test("recycle() inside delivery makes the next read start at the slab's front", async () => {
  const offsets: number[] = [];
  const buffers = new Set<ArrayBufferLike>();
  let seen = 0;
  const pair = await slabPair((chunk, reads) => {
    offsets.push(chunk.byteOffset);
    buffers.add(chunk.buffer);
    seen += chunk.length;
    reads.recycle();
  }, 64 * 1024);
  try {
    const pieces = Array.from({ length: 20 }, (_, i) => Buffer.alloc(5000, i));
    await sendOneByOne(pair.sender, pieces, () => seen);
    assert.equal(seen, 100_000);
    assert.ok(
      offsets.every((o) => o === offsets[0]),
      `every read starts where the first did: ${offsets.join(",")}`,
    );
    assert.equal(buffers.size, 1, "one slab for the whole stream");
  } finally {
    pair.close();
  }
});

test("without recycle() a slab is never written twice: every view keeps its bytes", async () => {
  const kept: { view: Buffer; fill: number }[] = [];
  let seen = 0;
  const pair = await slabPair((chunk) => {
    kept.push({ view: chunk, fill: chunk[0] ?? -1 });
    seen += chunk.length;
  }, 64 * 1024);
  try {
    const pieces = Array.from({ length: 40 }, (_, i) => Buffer.alloc(5000, i + 1));
    await sendOneByOne(pair.sender, pieces, () => seen);
    assert.equal(seen, 200_000);
    for (const { view, fill } of kept) assert.ok(view.every((b) => b === fill));
  } finally {
    pair.close();
  }
});

test("recycle() outside delivery never lets a later read overwrite bytes still held", async () => {
  // The receiver keeps every view and calls recycle() from a timer, between reads: the
  // socket already holds the region for its next read, so the call must not move reads
  // back over what was delivered. Every view must keep the bytes it was delivered with.
  const kept: { view: Buffer; fill: number }[] = [];
  let seen = 0;
  const late: { reads?: { recycle: () => void } } = {};
  const pair = await slabPair((chunk, reads) => {
    late.reads = reads;
    kept.push({ view: chunk, fill: chunk[0] ?? -1 });
    seen += chunk.length;
    setImmediate(() => {
      reads.recycle();
    });
  }, 64 * 1024);
  try {
    const pieces = Array.from({ length: 40 }, (_, i) => Buffer.alloc(3000, i + 1));
    await sendOneByOne(pair.sender, pieces, () => seen);
    assert.equal(seen, 120_000);
    // The views are checked only now, after every read: one overwritten meanwhile would
    // show another piece's fill byte.
    const damaged = kept.filter(({ view, fill }) => !view.every((b) => b === fill));
    assert.deepEqual(
      damaged.map((d) => d.fill),
      [],
      "views whose bytes were overwritten by a later read",
    );
  } finally {
    pair.close();
  }
});
