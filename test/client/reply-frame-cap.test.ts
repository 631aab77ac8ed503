import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { HEX_SIZE_HEADER } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";

// PROTOCOL.md §11 "Client limits" (issue 11): a server keeps replies and trailers to 1 MiB; a
// client accepts that much, and refuses a larger frame from its header alone, then closes.
const LIMIT = 1024 * 1024;
const HELLO = {
  ok: true,
  version: 1,
  server: "fake/1",
  auth: { required: false, methods: ["anonymous"] },
  limits: {
    maxControlFrame: 8192,
    maxChunk: 1048576,
    readAheadBytes: 262144,
    idleTimeoutMs: 300000,
    frameTimeoutMs: 30000,
    stallTimeoutMs: 60000,
  },
  checksums: ["crc32", "sha256"],
  capabilities: ["pipelining"],
};

/** The HELLO reply padded with an unknown field (which clients ignore) to exactly `size` bytes. */
function helloOfSize(size: number): Buffer {
  const bare = JSON.stringify({ ...HELLO, padding: "" });
  const json = JSON.stringify({ ...HELLO, padding: "x".repeat(size - Buffer.byteLength(bare)) });
  assert.equal(Buffer.byteLength(json), size);
  return Buffer.concat([HEX_SIZE_HEADER.encode(size), Buffer.from(json)]);
}

/** What the fake server sends after the client's first bytes: a whole frame, or a header only. */
let answer: Buffer = Buffer.alloc(0);
let server: net.Server;
let port: number;
const closedByClient: Promise<void>[] = [];

before(async () => {
  server = net.createServer((socket) => {
    socket.on("error", () => {});
    closedByClient.push(once(socket, "close").then(() => undefined));
    let first = true;
    // The first request (HELLO) gets `answer`; the next (QUIT, on close) a plain ok.
    socket.on("data", () => {
      socket.write(first ? answer : '0000000b{"ok":true}');
      first = false;
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  server.close();
  await once(server, "close");
});

test("a reply of exactly 1 MiB is accepted", async () => {
  answer = helloOfSize(LIMIT);
  const client = await BftpClient.connect({ host: "127.0.0.1", port });
  assert.equal(client.server.limits.maxChunk, 1048576);
  await client.close();
});

test("a reply announced over 1 MiB is refused from its header: FRAME_TOO_LARGE, connection closed", async () => {
  // Only the header: the client must not wait for a payload it will not read.
  answer = HEX_SIZE_HEADER.encode(LIMIT + 1);
  await rejectsWithCode(
    BftpClient.connect({ host: "127.0.0.1", port }, { timeout: 10_000 }),
    "BFTP_ERR_FRAME_TOO_LARGE",
  );
  await closedByClient.at(-1); // the client closed its side; the fake server never did
});
