import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { PARTIAL_SUFFIX } from "../../src/client/download.js";
import { RemoteError } from "../../src/errors.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

let srv: TestServer;
let client: BftpClient;

before(async () => {
  srv = await startServer();
  client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
});

after(async () => {
  await client.close();
  await srv.stop();
});

test("a remote error rejects that call with the server's code and leaves the client usable", async () => {
  const err = await rejectsWithCode(client.stat("/missing"), "BFTP_ERR_NOT_FOUND");
  assert.ok(err instanceof RemoteError, "the server's refusal is a RemoteError");
  assert.equal(err.connectionUsable, true);
  assert.equal(await client.pwd(), "/");
});

test("overlapping calls are pipelined on one connection and settle in request order", async () => {
  await fs.writeFile(path.join(srv.root, "p.txt"), "pipelined");
  const settled: number[] = [];
  const calls = Array.from({ length: 50 }, (_, i) =>
    (i % 2 === 0 ? client.stat("/p.txt") : client.pwd()).then(() => settled.push(i)),
  );
  await Promise.all(calls);
  assert.deepEqual(
    settled,
    Array.from({ length: 50 }, (_, i) => i),
  );
});

test("download into a Writable and upload from a Readable, both checked", async () => {
  const body = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
  const up = await client.upload(
    Readable.from([body.subarray(0, 1000), body.subarray(1000)]),
    "/stream.bin",
    { size: body.length },
  );
  assert.equal(up.size, body.length);
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write: (c: Buffer, _e, done) => {
      chunks.push(c);
      done();
    },
  });
  const down = await client.download("/stream.bin", sink);
  assert.equal(down.bytes, body.length);
  assert.ok(Buffer.concat(chunks).equals(body));
});

test("a refused download leaves no partial file behind", async () => {
  const local = path.join(srv.outside, "never.txt");
  await rejectsWithCode(client.download("/does-not-exist", local), "BFTP_ERR_NOT_FOUND");
  await assert.rejects(fs.stat(`${local}${PARTIAL_SUFFIX}`), { code: "ENOENT" });
  await assert.rejects(fs.stat(local), { code: "ENOENT" });
});

test("an existing local file is not replaced without overwrite", async () => {
  await fs.writeFile(path.join(srv.root, "a.txt"), "remote");
  const local = path.join(srv.outside, "a.txt");
  await fs.writeFile(local, "local");
  await rejectsWithCode(client.download("/a.txt", local), "BFTP_ERR_LOCAL_FILE");
  assert.equal(await fs.readFile(local, "utf8"), "local");
  await client.download("/a.txt", local, { overwrite: true });
  assert.equal(await fs.readFile(local, "utf8"), "remote");
});

test("list streams batches to onEntries without collecting them", async () => {
  await fs.mkdir(path.join(srv.root, "many"));
  for (let i = 0; i < 300; i++) await fs.writeFile(path.join(srv.root, "many", `f${i}`), "");
  let seen = 0;
  const collected = await client.list("/many", { onEntries: (batch) => (seen += batch.length) });
  assert.equal(seen, 300);
  assert.equal(collected.length, 0);
  await rejectsWithCode(client.list("/many", { maxEntries: 10 }), "BFTP_ERR_MESSAGE_TOO_LONG");
  assert.equal(
    (await client.list("/many")).length,
    300,
    "the client is usable after a capped listing",
  );
});

test("a connection failure rejects the pending call and every later one with the first reason", async () => {
  const other = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  other.connection.socket.destroy();
  const first = await rejectsWithCode(other.pwd(), "BFTP_ERR_CONNECTION_LOST");
  const later = await rejectsWithCode(other.stat("/"), "BFTP_ERR_CONNECTION_LOST");
  assert.equal(later, first);
});

test("connect's timeout covers HELLO: a server that never answers is given up on", async () => {
  const silent = net.createServer((socket) => {
    socket.on("error", () => {});
  });
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  const { port } = silent.address() as net.AddressInfo;
  try {
    await rejectsWithCode(
      BftpClient.connect({ host: "127.0.0.1", port }, { timeout: 200 }),
      "BFTP_ERR_TIMEOUT",
    );
  } finally {
    silent.close();
  }
});

test("a refused connection says so with its own code", async () => {
  const probe = net.createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  await once(probe, "close");
  await rejectsWithCode(
    BftpClient.connect(`bftp://127.0.0.1:${port}`),
    "BFTP_ERR_CONNECTION_REFUSED",
  );
});
