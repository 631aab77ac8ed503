// average-client against a real average-server: printing the mean, the JSON reply, and
// failing with the server's error code.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { encodeFrame } from "../../src/index.js";
import { runExample, startExampleServer, type ExampleServer } from "../helpers/examples-spawn.js";
import { closeServer, listenLocal, unusedPort } from "../helpers/examples-socket.js";

const TEST_TIMEOUT = 90_000;
let server: ExampleServer;
let port: string;

before(async () => {
  server = await startExampleServer("average-server", ["--port", "0"]);
  port = String(server.port);
});
after(() => server.stop());

test("prints the mean of its arguments", { timeout: TEST_TIMEOUT }, async () => {
  const run = await runExample("average-client", ["--port", port, "1", "2", "3", "4"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.toString(), "2.5\n");
});

test("negative numbers after --, exponents, fractions", { timeout: TEST_TIMEOUT }, async () => {
  const run = await runExample("average-client", ["--port", port, "--", "-1", "-2.5e1", ".5"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(Number(run.stdout.toString()), (-1 - 25 + 0.5) / 3);
});

test("large numbers do not overflow", { timeout: TEST_TIMEOUT }, async () => {
  const run = await runExample("average-client", ["--port", port, "1e308", "1e308"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(Number(run.stdout.toString()), 1e308);
});

test("--json prints the whole reply", { timeout: TEST_TIMEOUT }, async () => {
  const run = await runExample("average-client", ["--port", port, "--json", "2", "4"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout.toString()), { mean: 3, count: 2 });
});

test("an error reply: exit 1 with its code on stderr", { timeout: TEST_TIMEOUT }, async () => {
  const empty = await runExample("average-client", ["--port", port]);
  assert.equal(empty.code, 1);
  assert.equal(empty.stdout.length, 0);
  assert.match(empty.stderr, /^average-client: AVG_ERR_EMPTY: /);

  const raw = await runExample("average-client", ["--port", port, "--raw", '[1, "two"]']);
  assert.equal(raw.code, 1);
  assert.match(raw.stderr, /^average-client: AVG_ERR_NOT_A_NUMBER: /);
});

test(
  "--json with an error reply prints it and still exits 1",
  { timeout: TEST_TIMEOUT },
  async () => {
    const run = await runExample("average-client", ["--port", port, "--json", "--raw", "{}"]);
    assert.equal(run.code, 1);
    const reply = JSON.parse(run.stdout.toString()) as { error: { code: string } };
    assert.equal(reply.error.code, "AVG_ERR_NOT_AN_ARRAY");
  },
);

test(
  "arguments that are not numbers: exit 2 before connecting",
  { timeout: TEST_TIMEOUT },
  async () => {
    for (const bad of ["abc", "0x10", "1e999", "NaN", "Infinity", ""]) {
      const run = await runExample("average-client", ["--port", port, "1", bad]);
      assert.equal(run.code, 2, `"${bad}": ${run.stderr}`);
    }
    const both = await runExample("average-client", ["--port", port, "--raw", "[1]", "2"]);
    assert.equal(both.code, 2);
  },
);

test(
  "a refused connection: exit 1, ECONNREFUSED and a hint",
  { timeout: TEST_TIMEOUT },
  async () => {
    const run = await runExample("average-client", ["--port", String(await unusedPort()), "1"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ECONNREFUSED/);
    assert.match(run.stderr, /average-server\.js --port \d+/);
  },
);

test(
  "a server that closes without replying: exit 1 with the wire code",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const mute = net.createServer((socket) => {
      socket.once("data", () => {
        socket.end();
      });
    });
    const mutePort = await listenLocal(mute);
    t.after(() => closeServer(mute));
    const run = await runExample("average-client", ["--port", String(mutePort), "1"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\[BFTP_ERR_PEER_CLOSED\]/);
  },
);

test(
  "a server that replies nonsense: exit 1 with AVG_ERR_BAD_REPLY",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const liar = net.createServer((socket) => {
      socket.once("data", () => socket.end(encodeFrame('{"average": 3}')));
    });
    const liarPort = await listenLocal(liar);
    t.after(() => closeServer(liar));
    const run = await runExample("average-client", ["--port", String(liarPort), "1"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\[AVG_ERR_BAD_REPLY\]/);
  },
);
