// average-server with well-behaved and merely mistaken clients: answers, error replies
// that leave the connection usable, requests split into single bytes, many clients.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { encodeFrame, HEX_SIZE_HEADER } from "../../src/index.js";
import { encodeAverageRequest } from "../../examples/average-protocol.js";
import { ask, codeOf, readReply } from "../helpers/examples-average.js";
import { startExampleServer, type ExampleServer } from "../helpers/examples-spawn.js";
import {
  connectClient,
  nextReadFailure,
  send,
  type TestClient,
} from "../helpers/examples-socket.js";

const TEST_TIMEOUT = 90_000;
let server: ExampleServer;
const clients: TestClient[] = [];

before(async () => {
  server = await startExampleServer("average-server", [
    "--port",
    "0",
    "--max-request",
    "1KiB",
    "--max-discard",
    "1MiB",
  ]);
});
after(async () => {
  for (const client of clients) client.socket.destroy();
  await server.stop();
});

async function open(): Promise<TestClient> {
  const client = await connectClient(server.port);
  clients.push(client);
  return client;
}

test("answers the mean and the count", { timeout: TEST_TIMEOUT }, async () => {
  const client = await open();
  assert.deepEqual(await ask(client, "[1, 2, 3, 4]"), { mean: 2.5, count: 4 });
  assert.deepEqual(await ask(client, "[1e308, 1e308]"), { mean: 1e308, count: 2 });
  assert.deepEqual(await ask(client, "[-7]"), { mean: -7, count: 1 });
});

test(
  "a request sent one byte per write still gets the right answer",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    client.socket.setNoDelay(true); // so each byte leaves as its own segment
    const frame = encodeAverageRequest([10, 20, 30, 40.5]);
    for (const byte of frame) await send(client.socket, Buffer.of(byte));
    assert.deepEqual(await readReply(client), { mean: 25.125, count: 4 });
    // The connection is in step for the next request.
    assert.deepEqual(await ask(client, "[2]"), { mean: 2, count: 1 });
  },
);

test(
  "pipelined requests in one write get their replies in order",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    const batch = Buffer.concat([
      encodeAverageRequest([1]),
      encodeFrame("[]"),
      encodeAverageRequest([2, 4]),
    ]);
    await send(client.socket, batch);
    assert.deepEqual(await readReply(client), { mean: 1, count: 1 });
    assert.equal(codeOf(await readReply(client)), "AVG_ERR_EMPTY");
    assert.deepEqual(await readReply(client), { mean: 3, count: 2 });
  },
);

test(
  "each bad request gets its code, and the next request on the connection works",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    const bad: [string, Uint8Array | string][] = [
      ["AVG_ERR_BAD_JSON", "[1, 2"],
      ["AVG_ERR_BAD_JSON", ""],
      ["AVG_ERR_NOT_AN_ARRAY", '{"numbers": [1, 2]}'],
      ["AVG_ERR_NOT_A_NUMBER", '[1, "2"]'],
      ["AVG_ERR_NOT_A_NUMBER", "[1, null]"],
      ["AVG_ERR_NOT_FINITE", "[1, 1e999]"],
      ["AVG_ERR_EMPTY", "[]"],
      ["BFTP_ERR_BAD_UTF8", Buffer.from([0x5b, 0x31, 0xff, 0x5d])],
    ];
    for (const [code, payload] of bad) {
      assert.equal(codeOf(await ask(client, payload)), code);
      assert.deepEqual(await ask(client, "[1, 2, 3]"), { mean: 2, count: 3 }, `after ${code}`);
    }
  },
);

test(
  "a frame over --max-request is refused and skipped unread; the connection stays usable",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    // 512 KiB of what would look like valid requests, were the server to parse it.
    const payload = Buffer.from("00000003[5]".repeat(48 * 1024));
    const reply = ask(client, payload);
    assert.equal(codeOf(await reply), "BFTP_ERR_FRAME_TOO_LARGE");
    assert.deepEqual(await ask(client, "[8, 9]"), { mean: 8.5, count: 2 });
  },
);

test("a frame of exactly --max-request bytes is accepted", { timeout: TEST_TIMEOUT }, async () => {
  const client = await open();
  const json = `[ ${"1,".repeat(510)}1]`; // 1024 bytes
  assert.equal(Buffer.byteLength(json), 1024);
  assert.deepEqual(await ask(client, json), { mean: 1, count: 511 });
  assert.equal(codeOf(await ask(client, `${json} `)), "BFTP_ERR_FRAME_TOO_LARGE");
  assert.deepEqual(await ask(client, "[3]"), { mean: 3, count: 1 });
});

test(
  "a header in upper-case hex is a header like any other",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    const json = `[${"2,".repeat(14)}2]`; // 31 bytes, "0000001f"
    const header = HEX_SIZE_HEADER.encode(json.length).toString("latin1").toUpperCase();
    assert.equal(header, "0000001F");
    await send(client.socket, Buffer.concat([Buffer.from(header), Buffer.from(json)]));
    assert.deepEqual(await readReply(client), { mean: 2, count: 15 });
  },
);

test(
  "a client that half-closes after its request gets the reply, then the end",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    await send(client.socket, encodeAverageRequest([4, 6]));
    client.socket.end();
    assert.deepEqual(await readReply(client), { mean: 5, count: 2 });
    assert.equal(await nextReadFailure(client), "BFTP_ERR_PEER_CLOSED");
  },
);

test(
  "twenty clients at once, interleaved, each get their own answers",
  { timeout: TEST_TIMEOUT },
  async () => {
    const many = await Promise.all(Array.from({ length: 20 }, () => open()));
    await Promise.all(
      many.map(async (client, i) => {
        for (let round = 0; round < 5; round++) {
          assert.deepEqual(await ask(client, JSON.stringify([i, round, i + round])), {
            mean: (2 * (i + round)) / 3,
            count: 3,
          });
        }
      }),
    );
  },
);
