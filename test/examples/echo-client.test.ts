// echo-client against a real echo-server: what it sends, what it prints, how it fails.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, test } from "node:test";
import { runExample, startExampleServer, type ExampleServer } from "../helpers/examples-spawn.js";
import {
  closeServer,
  connectClient,
  listenLocal,
  receive,
  send,
  unusedPort,
} from "../helpers/examples-socket.js";

const TEST_TIMEOUT = 90_000;
let server: ExampleServer;

before(async () => {
  server = await startExampleServer("echo-server", ["--port", "0", "--mode", "event-loop"]);
});
after(() => server.stop());

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

test("--message: prints exactly what it sent, exits 0", { timeout: TEST_TIMEOUT }, async () => {
  const run = await runExample("echo-client", [
    "--port",
    String(server.port),
    "--message",
    "héllo wörld",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.toString("utf8"), "héllo wörld");
});

test(
  "stdin: a multi-MiB binary input comes back byte for byte",
  { timeout: TEST_TIMEOUT },
  async () => {
    const input = randomBytes(3 * 1024 * 1024 + 17);
    const run = await runExample("echo-client", ["--port", String(server.port)], { input });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.length, input.length);
    assert.equal(sha256(run.stdout), sha256(input));
  },
);

test(
  "an empty stdin: sends nothing, prints nothing, exits 0",
  { timeout: TEST_TIMEOUT },
  async () => {
    const run = await runExample("echo-client", ["--port", String(server.port)], { input: "" });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.length, 0);
  },
);

test(
  "a refused connection: exit 1, the reason and a hint on stderr",
  { timeout: TEST_TIMEOUT },
  async () => {
    const port = await unusedPort();
    const run = await runExample("echo-client", ["--port", String(port), "--message", "x"]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout.length, 0);
    assert.match(run.stderr, /ECONNREFUSED/);
    assert.match(run.stderr, /echo-server\.js --port \d+/, "it says how to start the server");
  },
);

test(
  "a sequential server: the client is answered once the first client leaves",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const sequential = await startExampleServer("echo-server", [
      "--port",
      "0",
      "--mode",
      "sequential",
    ]);
    t.after(() => sequential.stop());
    const first = await connectClient(sequential.port);
    t.after(() => Promise.resolve(first.socket.destroy()));
    await send(first.socket, "1");
    await receive(first, 1);

    const waiting = runExample("echo-client", [
      "--port",
      String(sequential.port),
      "--message",
      "queued",
    ]);
    await sequential.waitForStderr(/waits until the current client closes/);
    first.socket.end();
    const run = await waiting;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.toString(), "queued");
  },
);

test(
  "a connection reset by the server: exit 1 with the reason",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    // A server that resets the connection as soon as the request arrives.
    const rude = net.createServer((socket) => {
      socket.once("data", () => {
        socket.resetAndDestroy();
      });
    });
    const port = await listenLocal(rude);
    t.after(() => closeServer(rude));
    const run = await runExample("echo-client", ["--port", String(port), "--message", "hello"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ECONNRESET/);
  },
);
