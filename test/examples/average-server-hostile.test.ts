// average-server against hostile and broken clients: absurd headers, unframed bytes,
// frames past every limit, resets mid-frame, silence. The server answers what it can,
// closes what it must, and keeps serving everyone else.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
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
    "64KiB",
  ]);
});
after(async () => {
  for (const client of clients) client.socket.destroy();
  await server.stop();
});

async function open(target: ExampleServer = server): Promise<TestClient> {
  const client = await connectClient(target.port);
  clients.push(client);
  return client;
}

/**
 * What to wait for to know the server dropped one more connection with `code`: a client
 * reset before the server looked at it has no address left to log, so count the lines.
 */
function nextDrop(code: string): { pattern: RegExp; count: number } {
  const pattern = new RegExp(`^dropped .*: ${code}$`);
  return { pattern, count: server.stderrLines.filter((line) => pattern.test(line)).length + 1 };
}

/** The server is alive and in service: a fresh client gets a right answer. */
async function assertStillServing(target: ExampleServer = server): Promise<void> {
  const client = await open(target);
  assert.deepEqual(await ask(client, "[1, 3]"), { mean: 2, count: 2 });
  client.socket.end();
}

test(
  "ffffffff as a header: BFTP_ERR_FRAME_TOO_LARGE, then the server closes",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    await send(client.socket, "ffffffff");
    assert.equal(codeOf(await readReply(client)), "BFTP_ERR_FRAME_TOO_LARGE");
    assert.equal(await nextReadFailure(client), "BFTP_ERR_PEER_CLOSED");
    await assertStillServing();
  },
);

test(
  "a header that is not 8 hex digits: BFTP_ERR_BAD_FRAME_HEADER, then close",
  { timeout: TEST_TIMEOUT },
  async () => {
    for (const header of ["0000001g", "GET / HT", "-0000001", " 0000001"]) {
      const client = await open();
      await send(client.socket, `${header}[1]`);
      assert.equal(codeOf(await readReply(client)), "BFTP_ERR_BAD_FRAME_HEADER", header);
      assert.equal(await nextReadFailure(client), "BFTP_ERR_PEER_CLOSED", header);
    }
    await assertStillServing();
  },
);

test(
  "the error reply survives a client that keeps sending after the server gave up",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    // Over --max-discard, and the whole payload follows: the server must not reset the
    // connection while our bytes are unread, or the reply could be lost.
    const payload = Buffer.alloc(512 * 1024, 0x31);
    const sending = send(client.socket, Buffer.concat([Buffer.from("00080000"), payload])).catch(
      () => undefined,
    );
    assert.equal(codeOf(await readReply(client)), "BFTP_ERR_FRAME_TOO_LARGE");
    assert.equal(await nextReadFailure(client), "BFTP_ERR_PEER_CLOSED");
    await sending;
    await assertStillServing();
  },
);

test(
  "a frame between --max-request and --max-discard keeps the connection",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    assert.equal(
      codeOf(await ask(client, Buffer.alloc(64 * 1024, 0x20))),
      "BFTP_ERR_FRAME_TOO_LARGE",
    );
    assert.deepEqual(await ask(client, "[10]"), { mean: 10, count: 1 });
  },
);

test(
  "a reset in the middle of a frame does not disturb the server",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    // The server sees ECONNRESET, or, when the kernel reports the reset as the end of the
    // stream (Linux does once the error has been consumed), an end in mid-frame.
    const logged = nextDrop("BFTP_ERR_(CONNECTION_LOST|UNEXPECTED_EOF)");
    await send(client.socket, "00000010[1, 2,");
    client.socket.resetAndDestroy();
    await server.waitForStderr(logged.pattern, logged.count);
    await assertStillServing();
  },
);

test(
  "a reset while the server skips an oversized frame does not disturb it",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    await send(client.socket, Buffer.concat([Buffer.from("00008000"), Buffer.alloc(4096, 0x20)]));
    client.socket.resetAndDestroy();
    await assertStillServing();
  },
);

test(
  "a client that ends in the middle of a frame is dropped without harm",
  { timeout: TEST_TIMEOUT },
  async () => {
    const client = await open();
    const logged = nextDrop("BFTP_ERR_UNEXPECTED_EOF");
    await send(client.socket, encodeAverageRequest([1, 2, 3]).subarray(0, 10));
    client.socket.end();
    await server.waitForStderr(logged.pattern, logged.count);
    assert.match(await nextReadFailure(client), /^BFTP_ERR_(PEER_CLOSED|CONNECTION_LOST)$/);
    await assertStillServing();
  },
);

test(
  "--idle-timeout: silence, or a stall mid-frame, gets BFTP_ERR_TIMEOUT and a close",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const impatient = await startExampleServer("average-server", [
      "--port",
      "0",
      "--idle-timeout",
      "0.3",
    ]);
    t.after(() => impatient.stop());

    const silent = await open(impatient);
    assert.equal(codeOf(await readReply(silent)), "BFTP_ERR_TIMEOUT");
    assert.equal(await nextReadFailure(silent), "BFTP_ERR_PEER_CLOSED");

    const stalled = await open(impatient);
    await send(stalled.socket, "00000010[1,");
    assert.equal(codeOf(await readReply(stalled)), "BFTP_ERR_TIMEOUT");
    assert.equal(await nextReadFailure(stalled), "BFTP_ERR_PEER_CLOSED");

    const stalledSkip = await open(impatient);
    await send(stalledSkip.socket, "00100000   ");
    assert.equal(codeOf(await readReply(stalledSkip)), "BFTP_ERR_TIMEOUT");
    assert.equal(await nextReadFailure(stalledSkip), "BFTP_ERR_PEER_CLOSED");

    await assertStillServing(impatient);
  },
);

test(
  "--max-connections: a client past the limit is closed, the others are served",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const small = await startExampleServer("average-server", [
      "--port",
      "0",
      "--max-connections",
      "1",
    ]);
    t.after(() => small.stop());
    const first = await open(small);
    assert.deepEqual(await ask(first, "[1]"), { mean: 1, count: 1 });
    const second = await open(small);
    assert.match(await nextReadFailure(second), /^BFTP_ERR_(PEER_CLOSED|CONNECTION_LOST)$/);
    assert.deepEqual(await ask(first, "[2]"), { mean: 2, count: 1 });
    first.socket.end();
    assert.equal(await nextReadFailure(first), "BFTP_ERR_PEER_CLOSED");
    await small.waitForStderr(/^closed /); // the slot is free again
    await assertStillServing(small);
  },
);

test(
  "after all that, the server process is still the one that started",
  { timeout: TEST_TIMEOUT },
  async () => {
    await assertStillServing();
    const status = await Promise.race([server.exited, Promise.resolve("running")]);
    assert.equal(status, "running");
  },
);
