// How many clients each echo-server mode serves at once, shown over real sockets and
// without timing: ordering alone proves who was served when.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startExampleServer, type ExampleServer } from "../helpers/examples-spawn.js";
import {
  connectClient,
  nextReadFailure,
  receive,
  send,
  type TestClient,
} from "../helpers/examples-socket.js";

const TEST_TIMEOUT = 90_000;

/** Sends `text` and checks the same bytes come back. */
async function roundTrip(client: TestClient, text: string): Promise<void> {
  await send(client.socket, text);
  assert.equal((await receive(client, Buffer.byteLength(text))).toString(), text);
}

/** Half-closes and checks the server closes its side after echoing everything. */
async function finish(client: TestClient): Promise<void> {
  client.socket.end();
  assert.equal(await nextReadFailure(client), "BFTP_ERR_PEER_CLOSED");
}

async function start(
  t: { after: (fn: () => Promise<unknown>) => void },
  args: string[],
): Promise<ExampleServer> {
  const server = await startExampleServer("echo-server", ["--port", "0", ...args]);
  t.after(() => server.stop());
  return server;
}

function track(t: { after: (fn: () => Promise<unknown>) => void }, client: TestClient): TestClient {
  t.after(() => Promise.resolve(client.socket.destroy()));
  return client;
}

describe("echo-server --mode sequential", () => {
  test(
    "makes a second client wait until the first one closes",
    { timeout: TEST_TIMEOUT },
    async (t) => {
      const server = await start(t, ["--mode", "sequential"]);
      const a = track(t, await connectClient(server.port));
      await roundTrip(a, "a1");

      // B's connection is accepted by TCP, and its bytes are sent...
      const b = track(t, await connectClient(server.port));
      await send(b.socket, "b1");
      // ...and the server keeps running: A is answered after B sent...
      await roundTrip(a, "a2");
      // ...but nothing has come back to B.
      assert.equal(b.reader.buffered, 0);

      await finish(a);
      assert.equal((await receive(b, 2)).toString(), "b1");
      await roundTrip(b, "b2");
      await finish(b);
    },
  );

  test("serves waiting clients in arrival order", { timeout: TEST_TIMEOUT }, async (t) => {
    const server = await start(t, ["--mode", "sequential"]);
    const a = track(t, await connectClient(server.port));
    await roundTrip(a, "first");
    const b = track(t, await connectClient(server.port));
    await send(b.socket, "second");
    const c = track(t, await connectClient(server.port));
    await send(c.socket, "third");
    await server.waitForStderr(/waits until the current client closes \(2 waiting\)/);

    await finish(a);
    assert.equal((await receive(b, 6)).toString(), "second");
    assert.equal(c.reader.buffered, 0);
    await finish(b);
    assert.equal((await receive(c, 5)).toString(), "third");
    await finish(c);
  });

  test("closes clients beyond --max-waiting at once", { timeout: TEST_TIMEOUT }, async (t) => {
    const server = await start(t, ["--mode", "sequential", "--max-waiting", "1"]);
    const a = track(t, await connectClient(server.port));
    await roundTrip(a, "a");
    const b = track(t, await connectClient(server.port));
    await server.waitForStderr(/1 waiting/);
    const c = track(t, await connectClient(server.port));
    // Closed without an echo: a clean end or a reset, depending on timing.
    assert.match(await nextReadFailure(c), /^BFTP_ERR_(PEER_CLOSED|CONNECTION_LOST)$/);
    await finish(a);
    await roundTrip(b, "b");
    await finish(b);
  });
});

for (const mode of ["event-loop", "processes"]) {
  describe(`echo-server --mode ${mode}`, () => {
    test(
      "serves a second client while the first is still open",
      { timeout: TEST_TIMEOUT },
      async (t) => {
        const server = await start(t, ["--mode", mode]);
        const a = track(t, await connectClient(server.port));
        await roundTrip(a, "a1");

        const b = track(t, await connectClient(server.port));
        await roundTrip(b, "b1"); // answered although A has not closed
        await roundTrip(a, "a2"); // and A is still being served
        await roundTrip(b, "b2");

        await finish(b);
        await finish(a);
      },
    );

    test(
      "echoes a large message whole, through backpressure",
      { timeout: TEST_TIMEOUT },
      async (t) => {
        const server = await start(t, ["--mode", mode]);
        const client = track(t, await connectClient(server.port));
        const payload = Buffer.alloc(4 * 1024 * 1024);
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 11)) & 0xff;
        // Read while writing: the server only reads as fast as we take its echo.
        const [, echoed] = await Promise.all([
          send(client.socket, payload),
          receive(client, payload.length),
        ]);
        assert.ok(echoed.equals(payload));
        await finish(client);
      },
    );
  });
}
