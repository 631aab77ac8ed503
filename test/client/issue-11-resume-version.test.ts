// Issue 11, item 1: a resumed download checks its partial with HASH, then GETs the rest. A
// file rewritten between those two requests used to give the partial's old bytes followed by
// the new version's rest, verified and reported as success. The GET now names the version
// the HASH was of (ifVersion); the server refuses another, and the client starts over.
// A proxy between client and server makes the change exactly when the GET goes by.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { partialPath } from "../../src/client/partial-name.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

const MiB = 1024 * 1024;

let srv: TestServer;
let proxy: net.Server;
let proxyPort: number;
/** Run (and awaited) before the next GET request is passed on to the server. */
let beforeGet: (() => Promise<void>) | undefined;
const ops: string[] = [];

/** Forwards client frames in order, parsing each control frame's `op` (no PUT goes through). */
function relay(client: net.Socket, server: net.Socket): void {
  let pending = Buffer.alloc(0);
  let queue = Promise.resolve();
  client.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 8) return;
      const size = Number.parseInt(pending.subarray(0, 8).toString("latin1"), 16);
      if (pending.length < 8 + size) return;
      const frame = pending.subarray(0, 8 + size);
      pending = pending.subarray(8 + size);
      const { op } = JSON.parse(frame.subarray(8).toString("utf8")) as { op: string };
      queue = queue.then(async () => {
        ops.push(op);
        const hook = op === "GET" ? beforeGet : undefined;
        if (hook !== undefined) {
          beforeGet = undefined;
          await hook();
        }
        server.write(frame);
      });
    }
  });
  server.pipe(client);
  client.on("error", () => server.destroy());
  server.on("error", () => client.destroy());
  client.on("close", () => server.destroy());
}

before(async () => {
  srv = await startServer({}, { tls: false });
  proxy = net.createServer((socket) => {
    const upstream = net.connect(srv.port, "127.0.0.1");
    relay(socket, upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyPort = (proxy.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await srv.stop();
});

function scenario(name: string): { remote: string; file: string; local: string } {
  const file = path.join(srv.root, `${name}.bin`);
  const local = path.join(srv.outside, `${name}.bin`);
  return { remote: `/${name}.bin`, file, local };
}

test("a resume whose file was rewritten between HASH and GET starts over and gets the new version whole", async () => {
  const { remote, file, local } = scenario("rewritten");
  const old = randomBytes(4 * MiB);
  const next = randomBytes(4 * MiB);
  await fs.writeFile(file, old);
  await fs.writeFile(partialPath(local), old.subarray(0, 2 * MiB)); // an interrupted download
  beforeGet = () => fs.writeFile(file, next); // same size, in place, as `cp` does
  const client = await BftpClient.connect({ host: "127.0.0.1", port: proxyPort });
  try {
    ops.length = 0;
    const result = await client.download(remote, local, { resume: true });
    assert.deepEqual([...ops], ["HASH", "GET", "GET"], "refused, then from the start");
    assert.equal(result.offset, 0);
    assert.ok((await fs.readFile(local)).equals(next), "exactly the new version");
    await assert.rejects(fs.access(partialPath(local)));
  } finally {
    await client.close();
  }
});

test("a resume of an unchanged file fetches only the rest", async () => {
  const { remote, file, local } = scenario("unchanged");
  const data = randomBytes(4 * MiB);
  await fs.writeFile(file, data);
  await fs.writeFile(partialPath(local), data.subarray(0, 3 * MiB));
  const client = await BftpClient.connect({ host: "127.0.0.1", port: proxyPort });
  try {
    const result = await client.download(remote, local, { resume: true });
    assert.equal(result.offset, 3 * MiB);
    assert.equal(result.bytes, MiB);
    assert.ok((await fs.readFile(local)).equals(data));
  } finally {
    await client.close();
  }
});
