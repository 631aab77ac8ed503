// Issue 12, item 5: GETs carve their buffers from the server's one slab
// (src/server/transfer-arena.ts). Many at once arrive whole, and once they are done, and once
// a client that vanished mid-download is gone, every block is back in the slab.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { sharedArena } from "../../src/server/transfer-arena.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

const CONTENT = randomBytes(3 * 1024 * 1024 + 77);
/** Far more than a connection's buffers hold, so the GET is mid-way when its client goes. */
const HUGE = 32 * 1024 * 1024;
let srv: TestServer;
let local: string;

before(async () => {
  srv = await startServer({ maxPerIp: 100 }); // 80 clients from 127.0.0.1 below
  await fs.writeFile(path.join(srv.root, "big.bin"), CONTENT);
  await fs.writeFile(path.join(srv.root, "huge.bin"), Buffer.alloc(HUGE, 7));
  local = await fs.mkdtemp(path.join(srv.outside, "..", "arena-"));
});

after(async () => {
  await srv.stop();
});

/** Waits (a bounded number of turns of the event loop) for the slab to be whole again. */
async function slabWhole(): Promise<number> {
  for (let i = 0; i < 1000 && sharedArena().inUse > 0; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sharedArena().inUse;
}

test("30 GETs at once arrive whole, and every block goes back to the slab", async () => {
  const clients = await Promise.all(
    Array.from({ length: 30 }, () => BftpClient.connect({ host: "127.0.0.1", port: srv.port })),
  );
  try {
    await Promise.all(
      clients.map((client, i) => client.download("/big.bin", path.join(local, `copy-${i}`))),
    );
    for (let i = 0; i < clients.length; i++) {
      assert.deepEqual(await fs.readFile(path.join(local, `copy-${i}`)), CONTENT);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  assert.equal(await slabWhole(), 0);
});

test("80 GETs at once, more than the slab gives 256 KiB each, arrive whole and free the slab", async () => {
  // Past 64 GETs the slab's 256 KiB buffers run out and the rest take turns with them
  // (TransferArena.wait); each client checks its bytes as they arrive, in memory.
  const want = createHash("sha256").update(CONTENT).digest("hex");
  const clients = await Promise.all(
    Array.from({ length: 80 }, () => BftpClient.connect({ host: "127.0.0.1", port: srv.port })),
  );
  try {
    const sums = await Promise.all(
      clients.map(async (client) => {
        const hash = createHash("sha256");
        await client.downloadChunks("/big.bin", (chunk) => {
          hash.update(chunk);
        });
        return hash.digest("hex");
      }),
    );
    assert.deepEqual(new Set(sums), new Set([want]));
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  assert.equal(await slabWhole(), 0);
  assert.equal(sharedArena().waiting, 0);
});

test("a client gone mid-download leaves no block behind", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  await conn.send({ op: "GET", path: "/huge.bin" });
  await conn.reader.readExactly(256 * 1024); // the reply and part of the data
  assert.ok(sharedArena().inUse > 0, "the GET holds buffers from the slab");
  conn.close();
  assert.equal(await slabWhole(), 0);
});
